namespace Functional.Hosting;

/// <summary>Where a served model stands.</summary>
public enum ModelState
{
    /// <summary>Its first load has not finished.</summary>
    Loading,

    /// <summary>Loaded: it answers.</summary>
    Ready,

    /// <summary>Its first load failed (<see cref="ServedModel.Error"/> says why): it does not answer.</summary>
    Failed,
}
