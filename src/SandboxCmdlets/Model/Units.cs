using System;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Sandbox
{
    /// <summary>Byte sizes in the Docker SDK's spelling ('512m', '1g', 1073741824) and back.</summary>
    public static class Units
    {
        static readonly Regex SizePattern = new Regex(@"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        public static bool TryParseBytes(object? value, out long bytes)
        {
            bytes = 0;
            switch (value)
            {
                case null: return false;
                case int i: bytes = i; return i >= 0;
                case long l: bytes = l; return l >= 0;
                case double d when d >= 0 && d <= long.MaxValue && Math.Floor(d) == d: bytes = (long)d; return true;
                case decimal m when m >= 0 && m == decimal.Floor(m): bytes = (long)m; return true;
            }
            var match = SizePattern.Match(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "");
            if (!match.Success) return false;
            var number = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            var unit = match.Groups[2].Value.ToLowerInvariant();
            var scale = unit switch { "k" => 1L << 10, "m" => 1L << 20, "g" => 1L << 30, "t" => 1L << 40, "p" => 1L << 50, _ => 1L };
            var result = number * scale;
            if (result > long.MaxValue || (unit == "" && Math.Floor(number) != number)) return false;
            bytes = (long)result;
            return true;
        }

        public static string FormatBytes(long bytes)
        {
            string[] names = { "B", "KB", "MB", "GB", "TB" };
            double value = bytes;
            int i = 0;
            while (value >= 1024 && i < names.Length - 1) { value /= 1024; i++; }
            return value.ToString(value % 1 == 0 ? "0" : "0.##", CultureInfo.InvariantCulture) + names[i];
        }
    }
}
