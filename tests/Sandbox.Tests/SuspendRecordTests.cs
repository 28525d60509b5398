using System;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class SuspendRecordTests
{
    static readonly DateTime Now = new DateTime(2026, 12, 5, 3, 0, 0, 500, DateTimeKind.Utc);
    static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public void Resuming_keeps_the_remaining_time_however_long_it_was_suspended()
    {
        var record = SuspendRecord.At(Now, Now.AddSeconds(42.25), keepDeadline: false);
        Assert.Equal(TimeSpan.FromSeconds(42.25), record.Remaining);
        Assert.Equal(Now.AddMinutes(10).AddSeconds(42.25), record.ResumedDeadline(Now.AddMinutes(10)));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-2.3)]
    [InlineData(7.9)]
    public void A_resume_thaws_on_the_moment_that_makes_the_whole_second_file_exact(double engineOffsetSec)
    {
        var offset = TimeSpan.FromSeconds(engineOffsetSec);
        var record = SuspendRecord.At(Now, Now.AddSeconds(42.25), keepDeadline: false);
        var earliest = Now.AddSeconds(10.1);
        var (engineDeadline, thaw) = record.ThawOnTheSecond(earliest, offset);
        Assert.Equal(0, engineDeadline.Ticks % TimeSpan.TicksPerSecond);
        Assert.InRange(thaw, earliest, earliest.AddSeconds(1));
        Assert.Equal(engineDeadline - offset, thaw + record.Remaining!.Value);
    }

    [Fact]
    public void With_KeepDeadline_the_clock_runs_on_and_the_deadline_ends_a_suspension_before_MaxSuspend()
    {
        var record = SuspendRecord.At(Now, Now.AddSeconds(30), keepDeadline: true);
        Assert.Equal(Now.AddSeconds(30), record.ResumedDeadline(Now.AddMinutes(10)));
        Assert.Equal(Now.AddSeconds(30), record.RemovalDeadline(Hour));
        Assert.Equal(Now.AddSeconds(10), record.RemovalDeadline(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Without_KeepDeadline_MaxSuspend_alone_ends_a_suspension()
    {
        var record = SuspendRecord.At(Now, Now.AddSeconds(30), keepDeadline: false);
        Assert.Equal(Now + Hour, record.RemovalDeadline(Hour));
    }

    [Fact]
    public void A_sandbox_without_a_deadline_has_none_after_resume_but_is_still_removed_after_MaxSuspend()
    {
        var record = SuspendRecord.At(Now, null, keepDeadline: false);
        Assert.Null(record.Remaining);
        Assert.Null(record.ResumedDeadline(Now.AddMinutes(5)));
        Assert.Equal(Now + Hour, record.RemovalDeadline(Hour));
        Assert.Equal(Now + Hour, SuspendRecord.At(Now, null, keepDeadline: true).RemovalDeadline(Hour));
    }

    [Fact]
    public void A_deadline_already_passed_leaves_no_time_and_ends_the_sandbox_on_resume()
    {
        var record = SuspendRecord.At(Now, Now.AddSeconds(-3), keepDeadline: false);
        Assert.Equal(TimeSpan.Zero, record.Remaining);
        Assert.Equal(Now.AddMinutes(1), record.ResumedDeadline(Now.AddMinutes(1)));
    }

    [Theory]
    [InlineData(false, 42.25)]
    [InlineData(true, 0.0)]
    [InlineData(false, -1.0)]
    public void The_file_round_trips_to_the_millisecond(bool keep, double remainingSec)
    {
        var record = SuspendRecord.At(Now, remainingSec < 0 ? (DateTime?)null : Now.AddSeconds(remainingSec), keep);
        Assert.True(SuspendRecord.TryParse(record.ToFileText(), out var read));
        Assert.Equal(record.SuspendedAtUtc, read.SuspendedAtUtc);
        Assert.Equal(record.Remaining, read.Remaining);
        Assert.Equal(keep, read.KeepDeadline);
    }

    [Theory]
    [InlineData(SuspendRecord.ResumedText)]
    [InlineData("")]
    [InlineData("suspended 12 x 0")]
    [InlineData("suspended 12 100 2")]
    [InlineData("suspended -5 100 0")]
    [InlineData("1764903600")]
    public void Anything_else_is_no_suspension(string text) => Assert.False(SuspendRecord.TryParse(text, out _));
}
