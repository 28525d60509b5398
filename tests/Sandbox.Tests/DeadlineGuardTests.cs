using System.Diagnostics;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class DeadlineGuardTests
{
    [Fact]
    public void Command_gives_epoch_seconds_and_the_fraction()
    {
        var deadline = new DateTime(2025, 1, 2, 3, 4, 5, 250, DateTimeKind.Utc);
        Assert.Equal(new[] { "1735787045", "0.250" }, DeadlineGuard.Command(deadline));
        Assert.Equal(new[] { "1735787045", "0" }, DeadlineGuard.Command(deadline.AddMilliseconds(-250)));
        Assert.Equal(new[] { "0", "0" }, DeadlineGuard.Command(null));
    }

    [Fact]
    public void A_deadline_file_reads_back()
    {
        Assert.True(DeadlineGuard.TryParse(" 1735787045\n", out var deadline));
        Assert.Equal(new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc), deadline);
    }

    [Fact]
    public void A_deadline_file_of_zero_means_none()
    {
        Assert.True(DeadlineGuard.TryParse("0\n", out var deadline));
        Assert.Null(deadline);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-5")]
    [InlineData("abc")]
    [InlineData("12 0.5")]
    public void A_damaged_deadline_file_is_not_read(string text) => Assert.False(DeadlineGuard.TryParse(text, out _));

    [Fact]
    public void The_archive_holds_whole_seconds_rounded_up_as_every_version_reads_them()
    {
        Assert.Equal("1735787046\n", FileIn(new DateTime(2025, 1, 2, 3, 4, 5, 75, DateTimeKind.Utc)));
        Assert.Equal("1735787045\n", FileIn(new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc)));
        Assert.Equal("0\n", FileIn(null));
    }

    static string FileIn(DateTime? deadline)
    {
        using var archive = DeadlineGuard.Archive(deadline);
        var bytes = archive.ToArray();
        var end = Array.IndexOf(bytes, (byte)0, 512);
        return System.Text.Encoding.ASCII.GetString(bytes, 512, end - 512);
    }

    // The guard's own loop, started by this machine's shells (which hand it to bash here): it must never end before the
    // deadline, and end soon after it (within a second, on a busy two-core machine; typically a few hundredths).
    [TheoryNeeding(Prerequisite.PosixShell)]
    [InlineData(1300)]
    [InlineData(2050)]
    public void The_loop_ends_just_after_its_deadline_in_sh(int inMillis) => LoopEndsJustAfterItsDeadline("/bin/sh", inMillis);

    [FactNeeding(Prerequisite.Busybox)]
    public void The_loop_ends_just_after_its_deadline_in_busybox_sh() => LoopEndsJustAfterItsDeadline("/bin/busybox", 1700);

    static void LoopEndsJustAfterItsDeadline(string shell, int inMillis)
    {
        var entry = DeadlineGuard.Entrypoint;
        var deadline = DateTime.UtcNow.AddMilliseconds(inMillis);
        // Its stdin open and silent, as the container's: the loop sleeps reading it.
        var start = new ProcessStartInfo(shell) { UseShellExecute = false, RedirectStandardInput = true };
        if (shell.EndsWith("busybox")) start.ArgumentList.Add("sh");
        foreach (var arg in entry.Skip(1)) start.ArgumentList.Add(arg);
        foreach (var arg in DeadlineGuard.Command(deadline)) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        Assert.True(process.WaitForExit(inMillis + 5000), "the loop did not end");
        var ended = DateTime.UtcNow;
        Assert.True(ended >= deadline, $"ended {(deadline - ended).TotalMilliseconds:0} ms early");
        Assert.True(ended <= deadline.AddMilliseconds(1000), $"ended {(ended - deadline).TotalMilliseconds:0} ms late");
    }

    [Fact]
    public void The_loop_without_a_deadline_keeps_running()
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = true };
        foreach (var arg in DeadlineGuard.Entrypoint.Skip(1)) start.ArgumentList.Add(arg);
        foreach (var arg in DeadlineGuard.Command(null)) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        try { Assert.False(process.WaitForExit(2500)); }
        finally { process.Kill(entireProcessTree: true); }
    }
}
