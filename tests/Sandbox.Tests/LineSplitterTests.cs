using System.Text;
using Sandbox.Exec;
using Xunit;

namespace Sandbox.Tests;

public class LineSplitterTests
{
    readonly List<string> _lines = new();

    LineSplitter Splitter(StringBuilder? capture = null, int limit = int.MaxValue) => new(_lines.Add, capture, limit);

    static void Write(LineSplitter s, string text) => Write(s, Encoding.UTF8.GetBytes(text));

    static void Write(LineSplitter s, byte[] bytes) => s.Write(bytes, 0, bytes.Length);

    [Fact]
    public void Lines_split_across_writes()
    {
        var s = Splitter();
        Write(s, "hel");
        Assert.Empty(_lines);
        Write(s, "lo\nwor");
        Assert.Equal(new[] { "hello" }, _lines);
        Write(s, "ld\nthird\n");
        Assert.Equal(new[] { "hello", "world", "third" }, _lines);
        s.Flush();
        Assert.Equal(3, _lines.Count);
    }

    [Fact]
    public void Offset_and_count_are_honoured()
    {
        var s = Splitter();
        var bytes = Encoding.UTF8.GetBytes("XXabc\nYY");
        s.Write(bytes, 2, 4);
        Assert.Equal(new[] { "abc" }, _lines);
    }

    [Fact]
    public void Empty_lines_are_kept()
    {
        var s = Splitter();
        Write(s, "\n\na\n\n");
        Assert.Equal(new[] { "", "", "a", "" }, _lines);
    }

    [Fact]
    public void Multibyte_characters_split_across_writes()
    {
        var s = Splitter();
        var bytes = Encoding.UTF8.GetBytes("é€😀\n");   // 2, 3 and 4 bytes
        foreach (var b in bytes) s.Write(new[] { b }, 0, 1);
        Assert.Equal(new[] { "é€😀" }, _lines);
    }

    [Fact]
    public void Multibyte_character_split_between_two_writes()
    {
        var s = Splitter();
        var bytes = Encoding.UTF8.GetBytes("x文y\n");
        s.Write(bytes, 0, 2);     // 'x' and the first byte of 文
        s.Write(bytes, 2, bytes.Length - 2);
        Assert.Equal(new[] { "x文y" }, _lines);
    }

    [Fact]
    public void Crlf_is_one_line_end_even_split()
    {
        var s = Splitter();
        Write(s, "a\r\nb\r");
        Write(s, "\nc\r\n");
        Assert.Equal(new[] { "a", "b", "c" }, _lines);
    }

    [Fact]
    public void Lone_cr_inside_a_line_is_kept()
    {
        var s = Splitter();
        Write(s, "progress 10%\rprogress 100%\n");
        Assert.Equal(new[] { "progress 10%\rprogress 100%" }, _lines);
    }

    [Fact]
    public void Trailing_partial_line_comes_out_on_flush()
    {
        var s = Splitter();
        Write(s, "one\ntwo");
        Assert.Equal(new[] { "one" }, _lines);
        s.Flush();
        Assert.Equal(new[] { "one", "two" }, _lines);
    }

    [Fact]
    public void Flush_without_a_partial_line_emits_nothing()
    {
        var s = Splitter();
        Write(s, "one\n");
        s.Flush();
        Assert.Equal(new[] { "one" }, _lines);
        var empty = Splitter();
        empty.Flush();
        Assert.Single(_lines);
    }

    [Fact]
    public void Incomplete_character_at_the_end_becomes_a_replacement_character()
    {
        var s = Splitter();
        s.Write(new byte[] { (byte)'a', 0xE6, 0x96 }, 0, 3);   // 'a' + 2 of the 3 bytes of 文
        s.Flush();
        Assert.Equal("a\uFFFD", Assert.Single(_lines));
    }

    [Fact]
    public void Large_write_in_one_go()
    {
        var s = Splitter();
        var text = string.Concat(Enumerable.Range(0, 5000).Select(i => $"line {i}\n"));
        Write(s, text);
        Assert.Equal(5000, _lines.Count);
        Assert.Equal("line 4999", _lines[^1]);
    }

    [Fact]
    public void Capture_keeps_the_raw_text()
    {
        var capture = new StringBuilder();
        var s = Splitter(capture);
        Write(s, "a\r\nb");
        s.Flush();
        Assert.Equal("a\r\nb", capture.ToString());
        Assert.False(s.Truncated);
    }

    [Fact]
    public void Capture_limit_sets_truncated_but_lines_still_flow()
    {
        var capture = new StringBuilder();
        var s = Splitter(capture, limit: 10);
        Write(s, "0123456\n");
        Assert.False(s.Truncated);
        Write(s, "789abcdef\n");
        Assert.True(s.Truncated);
        Assert.Equal("0123456\n78", capture.ToString());
        Write(s, "more\n");
        Assert.Equal(10, capture.Length);
        Assert.Equal(new[] { "0123456", "789abcdef", "more" }, _lines);
    }

    [Fact]
    public void Capture_exactly_at_the_limit_is_not_truncated()
    {
        var capture = new StringBuilder();
        var s = Splitter(capture, limit: 4);
        Write(s, "abc\n");
        s.Flush();
        Assert.False(s.Truncated);
        Assert.Equal("abc\n", capture.ToString());
    }
}
