using Sandbox.Exec;
using Xunit;

namespace Sandbox.Tests;

public class StandardErrorTailTests
{
    [Fact]
    public void Keeps_the_last_lines_oldest_first()
    {
        var tail = new StandardErrorTail(3);
        foreach (var line in new[] { "1", "2", "3", "4", "5" }) tail.Add(line);
        Assert.Equal(new[] { "3", "4", "5" }, tail.Lines());
    }

    [Fact]
    public void Cuts_a_long_line()
    {
        var tail = new StandardErrorTail();
        tail.Add(new string('x', 5000));
        Assert.Equal(StandardErrorTail.MaxLineChars + 3, tail.Lines()[0].Length);
        Assert.EndsWith("...", tail.Lines()[0]);
    }

    [Fact]
    public void The_failure_message_quotes_the_tail_or_says_there_was_none()
    {
        var failed = new SandboxCommandFailedException("make test", "sb-1", 2, new[] { "", "error: 3 tests failed" });
        Assert.Equal("'make test' in sandbox 'sb-1' exited with code 2. Its last lines on stderr:\n  error: 3 tests failed", failed.Message);
        Assert.Equal(2, failed.ExitCode);
        var quiet = new SandboxCommandFailedException("false", "sb-1", 1, Array.Empty<string>());
        Assert.Equal("'false' in sandbox 'sb-1' exited with code 1 and wrote nothing to stderr.", quiet.Message);
    }
}
