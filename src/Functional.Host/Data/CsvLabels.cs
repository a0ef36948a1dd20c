namespace Functional.Data;

/// <summary>What a CSV file's target columns hold.</summary>
public enum CsvLabels
{
    /// <summary>
    /// One column of class labels. Labels that are all whole numbers from 0 are the class indices themselves;
    /// otherwise the distinct names, sorted by ordinal comparison, are classes 0, 1, ... (or the given
    /// <see cref="CsvOptions.ClassNames"/>, so that a test set maps like its training set).
    /// </summary>
    Classes,

    /// <summary>Numbers to predict (regression): one or more numeric columns.</summary>
    Values,
}
