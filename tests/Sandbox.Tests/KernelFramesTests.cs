using System.Text;
using Sandbox.Sessions;
using Xunit;

namespace Sandbox.Tests;

public class KernelFramesTests
{
    readonly List<(char Kind, string Payload)> _frames = new();

    KernelFrameReader Reader() => new((kind, payload, offset, count) => _frames.Add(((char)kind, Encoding.UTF8.GetString(payload, offset, count))));

    static byte[] Frame(char kind, string payload)
    {
        var body = Encoding.UTF8.GetBytes(payload);
        var frame = new byte[5 + body.Length];
        frame[0] = (byte)kind;
        frame[1] = (byte)(body.Length >> 24); frame[2] = (byte)(body.Length >> 16); frame[3] = (byte)(body.Length >> 8); frame[4] = (byte)body.Length;
        body.CopyTo(frame, 5);
        return frame;
    }

    static byte[] Join(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    [Fact]
    public void Several_frames_in_one_read_come_out_in_order()
    {
        var reader = Reader();
        var bytes = Join(Frame('O', "hello\n"), Frame('E', "oops\n"), Frame('D', "0\n"));
        reader.Write(bytes, 0, bytes.Length);
        Assert.Equal(new[] { ('O', "hello\n"), ('E', "oops\n"), ('D', "0\n") }, _frames);
    }

    [Fact]
    public void A_frame_split_byte_by_byte_comes_out_whole()
    {
        var reader = Reader();
        var bytes = Join(Frame('O', new string('x', 10_000)), Frame('D', "1\nTraceback"));
        foreach (var b in bytes) reader.Write(new[] { b }, 0, 1);
        Assert.Equal(2, _frames.Count);
        Assert.Equal(new string('x', 10_000), _frames[0].Payload);
        Assert.Equal(('D', "1\nTraceback"), _frames[1]);
    }

    [Fact]
    public void Payload_that_looks_like_frames_is_only_payload()
    {
        var reader = Reader();
        var lookalike = Encoding.UTF8.GetString(Join(Frame('D', "0\n"), Frame('R', "1")));
        var bytes = Join(Frame('O', lookalike), Frame('D', "0\n"));
        reader.Write(bytes, 0, bytes.Length);
        Assert.Equal(new[] { ('O', lookalike), ('D', "0\n") }, _frames);
    }

    [Fact]
    public void Offset_and_count_are_honoured_and_empty_payloads_pass()
    {
        var reader = Reader();
        var bytes = Join(new byte[] { 9, 9 }, Frame('D', ""), Frame('O', "a"), new byte[] { 9 });
        reader.Write(bytes, 2, bytes.Length - 3);
        Assert.Equal(new[] { ('D', ""), ('O', "a") }, _frames);
    }

    [Fact]
    public void An_execute_request_carries_the_timeout_in_milliseconds_and_the_code_as_utf8()
    {
        var frame = KernelFrames.ExecuteRequest("print('é')", TimeSpan.FromSeconds(1.5));
        var reader = Reader();
        reader.Write(frame, 0, frame.Length);
        Assert.Equal(new[] { ('X', "1500\nprint('é')") }, _frames);
    }

    [Theory]
    [InlineData("0\n", KernelStatus.Completed, "")]
    [InlineData("1\nTraceback (most recent call last):\nZeroDivisionError", KernelStatus.Raised, "Traceback (most recent call last):\nZeroDivisionError")]
    [InlineData("2\ntimed out\n", KernelStatus.Interrupted, "timed out\n")]
    [InlineData("", KernelStatus.Raised, "")]
    public void Done_payloads_give_status_and_text(string payload, KernelStatus status, string text)
    {
        var bytes = Encoding.UTF8.GetBytes("xx" + payload);
        Assert.Equal(status, KernelFrames.ParseDone(bytes, 2, bytes.Length - 2, out var said));
        Assert.Equal(text, said);
    }
}
