using System;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public sealed class SandboxDeadlinesTests
{
    static readonly DateTime Created = new DateTime(2026, 12, 4, 12, 0, 0, 400, DateTimeKind.Utc);

    [Fact]
    public void A_new_sandbox_expires_its_timeout_after_creation_and_never_without_one()
    {
        Assert.Equal(Created.AddSeconds(30), SandboxDeadlines.ForNew(30, Created));
        Assert.Null(SandboxDeadlines.ForNew(0, Created));
    }

    [Fact]
    public void The_guard_gets_the_deadline_on_the_engine_clock_with_a_grace_after_it()
    {
        var guard = SandboxDeadlines.GuardDeadline(30, Created, TimeSpan.FromSeconds(-2))!.Value;
        Assert.Equal(Created.AddSeconds(28).AddMilliseconds(250), guard);
        Assert.Null(SandboxDeadlines.GuardDeadline(0, Created, TimeSpan.Zero));
    }

    [Theory]
    [InlineData(0.0, true)]
    [InlineData(0.6, true)]     // the file holds whole seconds, rounded up
    [InlineData(1.0, true)]
    [InlineData(1.5, false)]
    [InlineData(-30.0, false)]
    public void A_deadline_file_within_a_second_of_what_is_known_is_no_move(double secondsLater, bool same)
    {
        Assert.Equal(same, SandboxDeadlines.SameDeadline(Created.AddSeconds(secondsLater), Created));
    }

    [Fact]
    public void No_deadline_in_the_file_is_a_move_unless_none_was_known()
    {
        Assert.False(SandboxDeadlines.SameDeadline(null, Created));
        Assert.True(SandboxDeadlines.SameDeadline(null, null));
        Assert.False(SandboxDeadlines.SameDeadline(Created, null));
    }

    [Fact]
    public void An_unknown_deadline_never_counts_as_passed()
    {
        var sandbox = new Sandbox { Id = "unknown", ExpiresAt = DateTime.UtcNow.AddMinutes(-5) };
        Assert.True(SandboxDeadlines.IsKnownPassed(sandbox));
        sandbox.DeadlineUnknown = true;
        Assert.False(SandboxDeadlines.IsKnownPassed(sandbox));
    }

    [Theory]
    [InlineData("running", -0.5, false)]  // PID 1 has its turn first
    [InlineData("running", -1.5, true)]
    [InlineData("exited", -0.5, true)]    // nothing left for PID 1 to do
    [InlineData("paused", -0.1, true)]    // suspended: PID 1 is frozen and cannot end it
    [InlineData("running", 5, false)]
    public void The_background_removal_gives_a_running_sandbox_s_guard_a_second(string state, double deadlineFromNowSec, bool due)
    {
        var now = DateTime.UtcNow;
        var sandbox = new Sandbox { Id = "due", EngineState = state, ExpiresAt = now.AddSeconds(deadlineFromNowSec) };
        Assert.Equal(due, SandboxDeadlines.IsDueForBackstop(sandbox, now));
        sandbox.DeadlineUnknown = true;
        Assert.False(SandboxDeadlines.IsDueForBackstop(sandbox, now.AddMinutes(5)));
    }

    [Fact]
    public void This_process_remembers_a_bounded_number_of_moved_deadlines_and_forgets_removed_ones()
    {
        var moved = new Sandbox { Id = "moved-" + Guid.NewGuid().ToString("n"), ExpiresAt = Created };
        SandboxDeadlines.Remember(moved);
        var fromLabels = new Sandbox { Id = moved.Id, ExpiresAt = Created.AddHours(1) };
        SandboxDeadlines.ApplyKnown(fromLabels);
        Assert.Equal(Created, fromLabels.ExpiresAt);

        for (var i = 0; i < 5000; i++) SandboxDeadlines.Remember(new Sandbox { Id = "bulk-" + i, ExpiresAt = Created });
        Assert.True(SandboxDeadlines.KnownCount <= 4096);
        Assert.False(SandboxDeadlines.IsMovedHere(moved.Id), "the oldest entry goes first");
        for (var i = 0; i < 5000; i++) SandboxDeadlines.Forget("bulk-" + i);
    }
}
