using System.Text;
using Sandbox.Sessions;
using Xunit;

namespace Sandbox.Tests;

public class SessionFrameParserTests
{
    const string Nonce = "00112233445566778899aabb";
    readonly List<byte> _output = new();
    readonly SessionFrameParser _parser = new();

    int? Write(string text) => Write(Encoding.UTF8.GetBytes(text));

    int? Write(byte[] bytes)
    {
        return _parser.Write(bytes, 0, bytes.Length, (b, o, c) => _output.AddRange(b.Skip(o).Take(c)));
    }

    string Output => Encoding.UTF8.GetString(_output.ToArray());

    static string End(int status, string nonce = Nonce) => SessionFrameParser.Marker(nonce) + status + "\n";

    [Fact]
    public void Output_and_status_of_a_command_that_ends_its_last_line()
    {
        _parser.Begin(Nonce);
        Write("one\ntwo\n").Should_be_null();
        Write(End(3)).Should_be(3);
        Assert.Equal("one\ntwo\n", Output);
        Assert.False(_parser.Active);
    }

    [Fact]
    public void The_newline_before_the_marker_is_the_shells_and_is_taken_off()
    {
        _parser.Begin(Nonce);
        Write("no-newline" + End(0)).Should_be(0);
        Assert.Equal("no-newline", Output);
    }

    [Fact]
    public void Empty_output()
    {
        _parser.Begin(Nonce);
        Write(End(0)).Should_be(0);
        Assert.Empty(_output);
    }

    [Fact]
    public void A_marker_split_across_every_byte_boundary()
    {
        var all = Encoding.UTF8.GetBytes("abc\n" + End(42));
        for (var split = 1; split < all.Length; split++)
        {
            _output.Clear();
            _parser.Begin(Nonce);
            Assert.Null(Write(all[..split]));
            Assert.Equal(42, Write(all[split..]));
            Assert.Equal("abc\n", Output);
        }
    }

    [Fact]
    public void A_marker_with_another_nonce_is_output()
    {
        _parser.Begin(Nonce);
        var fake = End(0, "ffffffffffffffffffffffff") + SessionFrameParser.MarkerPrefix + "\n";
        Write(fake).Should_be_null();
        Write(End(1)).Should_be(1);
        Assert.Equal(fake, Output);
    }

    [Fact]
    public void Binary_bytes_pass_through_unchanged()
    {
        var random = new Random(5);
        var data = new byte[1 << 20];
        random.NextBytes(data);
        _parser.Begin(Nonce);
        for (var at = 0; at < data.Length; at += 8191) Write(data[at..Math.Min(at + 8191, data.Length)]).Should_be_null();
        Write(End(0)).Should_be(0);
        Assert.Equal(data, _output.ToArray());
    }

    [Fact]
    public void What_follows_the_marker_waits_for_the_next_command()
    {
        _parser.Begin(Nonce);
        Write("first" + End(0) + "background\n").Should_be(0);
        Assert.Equal("first", Output);
        _output.Clear();
        const string next = "112233445566778899aabbcc";
        _parser.Begin(next);
        Write("second" + End(5, next)).Should_be(5);
        Assert.Equal("background\nsecond", Output);
    }

    [Fact]
    public void The_wrapped_command_quotes_single_quotes_and_carries_the_marker_on_both_streams()
    {
        var script = ShellChannel.Wrap("echo 'it''s'", Nonce, "tag1");
        Assert.Contains("command eval 'echo '\\''it'\\'''\\''s'\\''' </dev/null;", script);
        Assert.Equal(2, script.Split(SessionFrameParser.MarkerPrefix + Nonce).Length - 1);
        Assert.EndsWith(">&2\n", script);
    }
}

static class NullableIntAssertions
{
    public static void Should_be(this int? value, int expected) => Assert.Equal(expected, value);
    public static void Should_be_null(this int? value) => Assert.Null(value);
}
