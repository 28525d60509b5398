using System;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class EngineClockTests
{
    static readonly DateTime Now = new DateTime(2026, 12, 5, 8, 0, 0, DateTimeKind.Utc);

    static ClockSample Sample(double sentSec, double roundTripSec, double engineSec) =>
        new ClockSample(Now.AddSeconds(sentSec), Now.AddSeconds(sentSec + roundTripSec), Now.AddSeconds(engineSec));

    [Fact]
    public void The_offset_is_the_engine_time_minus_the_midpoint_of_the_request()
    {
        // Asked at 0, answered at 0.2; the engine said 3.1: its clock is 3.0 s ahead of the midpoint 0.1.
        Assert.Equal(TimeSpan.FromSeconds(3.0), EngineClock.BestOffset(new[] { Sample(0, 0.2, 3.1) }));
    }

    [Fact]
    public void The_sample_with_the_shortest_round_trip_wins_wherever_it_comes()
    {
        // A true offset of zero: the slow samples (a first call paying for its connection, a stall on the way back)
        // put the engine's reading far from their midpoints; the quick one is right to within its 10 ms.
        var slowConnect = Sample(0, 1.3, 1.29);     // the engine read its clock at the end: +0.64 s off
        var slowReturn = Sample(2, 4.0, 2.01);      // read at the start, the answer stalled: -1.99 s off
        var quick = Sample(7, 0.01, 7.005);
        foreach (var order in new[] { new[] { slowConnect, slowReturn, quick }, new[] { quick, slowConnect, slowReturn }, new[] { slowReturn, quick, slowConnect } })
            Assert.Equal(TimeSpan.Zero, EngineClock.BestOffset(order));
    }

    [Fact]
    public void An_engine_behind_gives_a_negative_offset()
    {
        Assert.Equal(TimeSpan.FromSeconds(-42.5), EngineClock.BestOffset(new[] { Sample(10, 1, -32) }));
    }
}
