using System.Diagnostics;
using Sandbox.Exec;
using Xunit;

namespace Sandbox.Tests;

public class StreamActivityTests
{
    long _now = 1_000_000;

    StreamActivity Activity() => new(() => _now);

    void Pass(double seconds) => _now += (long)(seconds * Stopwatch.Frequency);

    [Fact]
    public void A_pump_waiting_for_the_engine_is_quiet_from_when_its_read_began()
    {
        var activity = Activity();
        var start = activity.Now;
        Pass(0.5);
        Assert.Equal(0.5, activity.QuietSince(start).TotalSeconds, 3);
    }

    [Fact]
    public void Quiet_counts_from_no_earlier_than_the_moment_given()
    {
        var activity = Activity();
        Pass(5);
        var exited = activity.Now;
        Pass(0.2);
        Assert.Equal(0.2, activity.QuietSince(exited).TotalSeconds, 3);
    }

    [Fact]
    public void A_pump_blocked_on_a_slow_consumer_is_never_quiet()
    {
        var activity = Activity();
        var start = activity.Now;
        activity.HandingOver();
        Pass(10);
        Assert.Equal(TimeSpan.Zero, activity.QuietSince(start));
        activity.WaitingForEngine();
        Pass(0.1);
        Assert.Equal(0.1, activity.QuietSince(start).TotalSeconds, 3);
    }

    [Fact]
    public void Stream_time_leaves_out_the_time_spent_handing_over()
    {
        var activity = Activity();
        Pass(3);
        var exited = activity.Now;
        var handingOverThen = activity.HandingOverTicks();
        Pass(1);
        activity.HandingOver();
        Pass(5);
        Assert.Equal(1, activity.StreamTimeSince(exited, handingOverThen).TotalSeconds, 3);
        activity.WaitingForEngine();
        Pass(0.5);
        Assert.Equal(1.5, activity.StreamTimeSince(exited, handingOverThen).TotalSeconds, 3);
    }

    [Fact]
    public void Handing_over_before_the_moment_given_does_not_count_against_it()
    {
        var activity = Activity();
        activity.HandingOver();
        Pass(4);
        var exited = activity.Now;
        var handingOverThen = activity.HandingOverTicks();
        Pass(2);
        activity.WaitingForEngine();
        Pass(0.25);
        Assert.Equal(0.25, activity.StreamTimeSince(exited, handingOverThen).TotalSeconds, 3);
    }
}
