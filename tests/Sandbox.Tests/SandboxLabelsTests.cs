using System.Diagnostics;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class SandboxLabelsTests
{
    static readonly DateTime Created = new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc);
    static readonly long CreatedEpoch = 1735787045;   // 2025-01-02T03:04:05Z

    [Fact]
    public void Epoch_seconds()
    {
        Assert.Equal(CreatedEpoch, SandboxLabels.ToEpochSeconds(Created));
        Assert.Equal(0L, SandboxLabels.ToEpochSeconds(new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)));
    }

    [Fact]
    public void New_sandbox_labels()
    {
        var spec = new SandboxSpec { TimeoutSec = 300, ProjectId = "proj-1", CodePath = "/src/code" };
        var labels = SandboxLabels.ForNewSandbox(spec, Created);
        Assert.Equal("true", labels["io.sandbox.managed"]);
        Assert.Equal("300", labels["io.sandbox.timeout"]);
        Assert.Equal((CreatedEpoch + 300).ToString(), labels["io.sandbox.expires"]);
        Assert.Equal("proj-1", labels["io.sandbox.project"]);
        Assert.Equal($"{Environment.MachineName}:{Environment.ProcessId}", labels["io.sandbox.owner"]);
        Assert.Equal(typeof(SandboxLabels).Assembly.GetName().Version!.ToString(3), labels["io.sandbox.version"]);
        Assert.Matches(@"^\d+\.\d+\.\d+$", labels["io.sandbox.version"]);
        Assert.Equal("/workspace", labels["io.sandbox.workdir"]);
        Assert.Equal("/src/code", labels["io.sandbox.codepath"]);
        Assert.Equal((1L << 30).ToString(), labels["io.sandbox.memory"]);
        Assert.Equal("1000000000", labels["io.sandbox.nanocpus"]);
        Assert.Equal("100", labels["io.sandbox.pids"]);
        Assert.Equal("bridge", labels["io.sandbox.network"]);
        Assert.All(labels.Keys, k => Assert.StartsWith(SandboxLabels.Prefix, k));
    }

    [Fact]
    public void No_timeout_means_expires_0()
    {
        var labels = SandboxLabels.ForNewSandbox(new SandboxSpec { TimeoutSec = 0 }, Created);
        Assert.Equal("0", labels[SandboxLabels.Expires]);
        Assert.Equal("0", labels[SandboxLabels.Timeout]);
        Assert.Null(SandboxLabels.ReadExpiry(labels));
    }

    [Fact]
    public void No_project_no_project_label()
    {
        // Set empty, so that none comes from the image (a snapshot's), and read as absent.
        var labels = SandboxLabels.Effective(SandboxLabels.ForNewSandbox(new SandboxSpec(), Created));
        Assert.False(labels.ContainsKey(SandboxLabels.Project));
        Assert.False(labels.ContainsKey(SandboxLabels.CodePath));
    }

    [Fact]
    public void Expiry_round_trips()
    {
        var labels = SandboxLabels.ForNewSandbox(new SandboxSpec { TimeoutSec = 5 }, Created);
        var expiry = SandboxLabels.ReadExpiry(labels);
        // Read as the end of the labelled second, so that nothing acts early.
        Assert.Equal(Created.AddSeconds(6), expiry);
        Assert.Equal(DateTimeKind.Utc, expiry!.Value.Kind);
    }

    [Fact]
    public void Expiry_of_local_time_is_utc()
    {
        var local = Created.ToLocalTime();
        var labels = SandboxLabels.ForNewSandbox(new SandboxSpec { TimeoutSec = 10 }, local);
        Assert.Equal((CreatedEpoch + 10).ToString(), labels[SandboxLabels.Expires]);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("soon")]
    public void ReadExpiry_without_a_deadline_is_null(string? value)
    {
        var labels = new Dictionary<string, string>();
        if (value != null) labels[SandboxLabels.Expires] = value;
        Assert.Null(SandboxLabels.ReadExpiry(labels));
    }

    [Fact]
    public void ReadExpiry_reads_epoch_seconds()
    {
        var labels = new Dictionary<string, string> { [SandboxLabels.Expires] = CreatedEpoch.ToString() };
        Assert.Equal(Created.AddSeconds(1), SandboxLabels.ReadExpiry(labels));
    }

    [Fact]
    public void ReadLong()
    {
        var labels = new Dictionary<string, string> { ["a"] = "42", ["b"] = "x", ["c"] = "-1", ["d"] = "" };
        Assert.Equal(42L, SandboxLabels.ReadLong(labels, "a"));
        Assert.Null(SandboxLabels.ReadLong(labels, "b"));
        Assert.Equal(-1L, SandboxLabels.ReadLong(labels, "c"));
        Assert.Null(SandboxLabels.ReadLong(labels, "d"));
        Assert.Null(SandboxLabels.ReadLong(labels, "missing"));
    }
}
