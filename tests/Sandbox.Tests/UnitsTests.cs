using Xunit;

namespace Sandbox.Tests;

public class UnitsTests
{
    [Theory]
    [InlineData("512m", 512L << 20)]
    [InlineData("512M", 512L << 20)]
    [InlineData("1g", 1L << 30)]
    [InlineData("1G", 1L << 30)]
    [InlineData("1.5g", 3L << 29)]
    [InlineData("10kb", 10L * 1024)]
    [InlineData("10KiB", 10L * 1024)]
    [InlineData("2t", 2L << 40)]
    [InlineData("1073741824", 1L << 30)]
    [InlineData(" 64m ", 64L << 20)]
    [InlineData("100b", 100L)]
    [InlineData("0", 0L)]
    public void TryParseBytes_reads_docker_sizes(string text, long expected)
    {
        Assert.True(Units.TryParseBytes(text, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void TryParseBytes_reads_numbers()
    {
        Assert.True(Units.TryParseBytes(1073741824, out var fromInt));
        Assert.Equal(1L << 30, fromInt);
        Assert.True(Units.TryParseBytes(10L << 30, out var fromLong));
        Assert.Equal(10L << 30, fromLong);
        Assert.True(Units.TryParseBytes(1073741824d, out var fromDouble));
        Assert.Equal(1L << 30, fromDouble);
        Assert.True(Units.TryParseBytes(2048m, out var fromDecimal));
        Assert.Equal(2048L, fromDecimal);
    }

    [Theory]
    [InlineData("lots")]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("1.5")]      // a fraction of a byte
    [InlineData("12x")]
    [InlineData("1 g b x")]
    [InlineData("m")]
    public void TryParseBytes_refuses_bad_text(string text)
    {
        Assert.False(Units.TryParseBytes(text, out _));
    }

    [Fact]
    public void TryParseBytes_refuses_bad_values()
    {
        Assert.False(Units.TryParseBytes(null, out _));
        Assert.False(Units.TryParseBytes(-1, out _));
        Assert.False(Units.TryParseBytes(-5L, out _));
        Assert.False(Units.TryParseBytes(1.5d, out _));
        Assert.False(Units.TryParseBytes(-2d, out _));
        Assert.False(Units.TryParseBytes("99999999p", out _));   // overflows a long
    }

    [Theory]
    [InlineData(0L, "0B")]
    [InlineData(512L, "512B")]
    [InlineData(1024L, "1KB")]
    [InlineData(1536L, "1.5KB")]
    [InlineData(512L << 20, "512MB")]
    [InlineData(1L << 30, "1GB")]
    [InlineData(3L << 29, "1.5GB")]
    [InlineData(2L << 40, "2TB")]
    [InlineData(5L << 50, "5120TB")]
    public void FormatBytes_uses_binary_units(long bytes, string expected)
    {
        Assert.Equal(expected, Units.FormatBytes(bytes));
    }
}
