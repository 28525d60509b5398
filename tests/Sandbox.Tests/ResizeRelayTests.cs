using System.Collections.Generic;
using System.Threading.Tasks;
using Sandbox.Terminal;
using Xunit;

namespace Sandbox.Tests;

public class ResizeRelayTests
{
    [Fact]
    public async Task Sizes_asked_for_while_a_call_runs_collapse_into_the_last_one()
    {
        var sent = new List<(int, int)>();
        var firstCall = new TaskCompletionSource<bool>();
        var release = new TaskCompletionSource<bool>();
        var relay = new ResizeRelay(async size =>
        {
            lock (sent) sent.Add(size);
            if (sent.Count == 1) { firstCall.SetResult(true); await release.Task; }
        });

        relay.Request((80, 24));
        await firstCall.Task;
        relay.Request((90, 30));
        relay.Request((100, 35));
        relay.Request((120, 40));
        release.SetResult(true);
        await WhenIdle(relay);

        Assert.Equal(new[] { (80, 24), (120, 40) }, sent);
    }

    [Fact]
    public async Task A_size_asked_for_after_the_relay_went_idle_is_sent()
    {
        var sent = new List<(int, int)>();
        var relay = new ResizeRelay(size => { lock (sent) sent.Add(size); return Task.CompletedTask; });

        relay.Request((80, 24));
        await WhenIdle(relay);
        relay.Request((100, 30));
        await WhenIdle(relay);

        Assert.Equal(new[] { (80, 24), (100, 30) }, sent);
    }

    /// <summary>The relay's current run may start another before it ends; wait until the last one has.</summary>
    static async Task WhenIdle(ResizeRelay relay)
    {
        Task running;
        do { running = relay.IdleAsync(); await running; } while (running != relay.IdleAsync());
    }
}
