using System.Text;

namespace Functional.Data;

/// <summary>
/// An RFC 4180 record reader: fields separated by one character, records by CRLF, LF or CR; a field in double
/// quotes may hold separators, line breaks and doubled quotes (<c>""</c> is one quote). Blank lines are skipped.
/// A quote inside an unquoted field is kept as text. Fields, records and their field counts are bounded by
/// <see cref="CsvLimits"/> while reading: nothing longer than a bound is ever held.
/// </summary>
internal sealed class CsvReader(TextReader reader, char separator, string path, CsvLimits limits)
{
    private readonly char[] buffer = new char[1 << 16];
    private readonly StringBuilder field = new();
    private int position;
    private int length;
    private int line = 1;
    private long consumed;
    private long recordStart;

    /// <summary>The 1-based line on which the last record read starts.</summary>
    public int RecordLine { get; private set; }

    /// <summary>Reads the next record into <paramref name="fields"/>; false at the end of the file.</summary>
    public bool Read(List<string> fields)
    {
        while (true)
        {
            fields.Clear();
            int c;
            while ((c = Peek()) is '\r' or '\n') EndOfLine();
            if (c < 0) return false;
            RecordLine = line;
            recordStart = consumed;
            do
            {
                if (fields.Count == limits.MaxColumns)
                    throw new DataFormatException(path, $"the record has more than {limits.MaxColumns} fields, the most a record may have (CsvLimits.MaxColumns)", RecordLine, fields.Count + 1);
                fields.Add(ReadField(fields.Count + 1));
                c = Next();
            } while (c == separator);
            if (c is '\r' or '\n') EndOfLine(c);
            if (fields.Count > 1 || !string.IsNullOrWhiteSpace(fields[0])) return true; // else a line of spaces
        }
    }

    private string ReadField(int column)
    {
        field.Clear();
        if (Peek() == '"')
        {
            Next();
            var start = line;
            while (true)
            {
                var c = Next();
                if (c < 0)
                    throw new DataFormatException(path, "a quoted field starts here but its closing quote is missing", start, column);
                if (c == '"')
                {
                    if (Peek() != '"') break;
                    Next();
                }
                else if (c == '\n' || (c == '\r' && Peek() != '\n')) line++;
                Append(c, start, column);
            }
            var after = Peek();
            if (after >= 0 && after != separator && after is not ('\r' or '\n'))
                throw new DataFormatException(path,
                    $"'{(char)after}' follows the closing quote of a quoted field; only a separator or the end of the line can", line, column);
            return field.ToString();
        }
        while (true)
        {
            var c = Peek();
            if (c < 0 || c == separator || c is '\r' or '\n') return field.ToString();
            Append(Next(), line, column);
        }
    }

    /// <summary>Adds a character to the field, within the limits; <paramref name="startLine"/> is where the field starts.</summary>
    private void Append(int c, int startLine, int column)
    {
        if (field.Length >= limits.MaxFieldLength)
            throw new DataFormatException(path,
                $"the field is longer than {limits.MaxFieldLength} characters, the most a field may have (CsvLimits.MaxFieldLength); it starts {Functional.Excerpt.@short(field.ToString())}",
                startLine, column);
        if (consumed - recordStart > limits.MaxRecordLength)
            throw new DataFormatException(path,
                $"the record is longer than {limits.MaxRecordLength} characters, the most a record may have (CsvLimits.MaxRecordLength)", RecordLine, column);
        field.Append((char)c);
    }

    /// <summary>Consumes a line break (CRLF counts once), whose first character may already be read.</summary>
    private void EndOfLine(int first = -1)
    {
        if (first < 0) first = Next();
        if (first == '\r' && Peek() == '\n') Next();
        line++;
    }

    private int Peek()
    {
        if (position == length)
        {
            length = reader.Read(buffer, 0, buffer.Length);
            position = 0;
            if (length <= 0)
            {
                length = 0;
                return -1;
            }
        }
        return buffer[position];
    }

    private int Next()
    {
        var c = Peek();
        if (c >= 0)
        {
            position++;
            consumed++;
        }
        return c;
    }
}
