using Sandbox.Endpoints;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class SnapshotTests
{
    static readonly DateTime Created = new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    [Theory]
    [InlineData("py-deps")]
    [InlineData("build.2")]
    [InlineData("a")]
    [InlineData("a__b")]
    public void Valid_snapshot_names(string name)
    {
        SandboxSnapshots.ValidateName(name);
        Assert.Equal($"sandbox-snapshot/{name}:latest", SandboxSnapshots.ImageFor(name));
        ImageReference.Validate(SandboxSnapshots.ImageFor(name));
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("with space")]
    [InlineData("-lead")]
    [InlineData("trail-")]
    [InlineData("a/b")]
    [InlineData("a:b")]
    [InlineData("")]
    public void Invalid_snapshot_names_are_refused(string name)
    {
        var e = Assert.Throws<SandboxException>(() => SandboxSnapshots.ValidateName(name));
        Assert.Equal("InvalidSnapshotName", e.ErrorId);
    }

    [Fact]
    public void A_name_longer_than_100_characters_is_refused() =>
        Assert.Throws<SandboxException>(() => SandboxSnapshots.ValidateName(new string('a', 101)));

    [Theory]
    [InlineData("sandbox-snapshot/py-deps:latest", "py-deps")]
    [InlineData("sandbox-snapshot/py-deps:1", null)]
    [InlineData("other/py-deps:latest", null)]
    [InlineData("registry.example.com/sandbox-snapshot/py-deps:latest", null)]
    [InlineData("sandbox-snapshot/a/b:latest", null)]
    [InlineData("<none>:<none>", null)]
    public void Only_tags_of_the_module_repository_name_a_snapshot(string tag, string? name) =>
        Assert.Equal(name, SandboxSnapshots.NameOf(tag));

    [Fact]
    public void Every_sandbox_key_is_shadowed_except_the_helper_key()
    {
        var keys = SandboxLabels.SandboxKeys;
        foreach (var key in new[] { SandboxLabels.Project, SandboxLabels.Pool, SandboxLabels.CodePath, SandboxLabels.Expires, SandboxLabels.User,
                     SandboxLabels.ReadOnly, SandboxLabels.Cluster, SandboxLabels.ProjectFolder, SandboxLabels.Snapshot, SandboxLabels.SnapshotOf })
            Assert.Contains(key, keys);
        // A helper is found by the mere presence of its key: a sandbox must never carry it, even empty.
        Assert.DoesNotContain(SandboxLabels.HelperFor, keys);
        Assert.DoesNotContain(SandboxLabels.Prefix, keys);
    }

    [Fact]
    public void A_new_sandbox_sets_every_key_so_that_none_is_inherited_from_its_image()
    {
        var labels = SandboxLabels.ForNewSandbox(new SandboxSpec { TimeoutSec = 60 }, Created);
        foreach (var key in SandboxLabels.SandboxKeys) Assert.True(labels.ContainsKey(key), key);
        Assert.Equal("", labels[SandboxLabels.Project]);
        Assert.Equal("", labels[SandboxLabels.Pool]);
        Assert.Equal("", labels[SandboxLabels.Snapshot]);
        Assert.False(labels.ContainsKey(SandboxLabels.HelperFor));
        Assert.Equal("true", labels[SandboxLabels.Managed]);
    }

    [Fact]
    public void Empty_module_labels_read_as_absent()
    {
        var raw = new Dictionary<string, string>
        {
            [SandboxLabels.Managed] = "true",
            [SandboxLabels.Project] = "",
            [SandboxLabels.Pool] = "",
            [SandboxLabels.ProjectFolder] = "",
            ["other.label"] = "",
        };
        var effective = SandboxLabels.Effective(raw);
        Assert.False(effective.ContainsKey(SandboxLabels.Project));
        Assert.False(effective.ContainsKey(SandboxLabels.Pool));
        Assert.True(effective.ContainsKey("other.label"), "labels of others are kept as they are");
        Assert.Equal("true", effective[SandboxLabels.Managed]);

        var sandbox = SandboxMapper.Build("abc", "/sb", "img", "running", Created, raw, "unix:///var/run/docker.sock", Array.Empty<SandboxPort>());
        Assert.Null(sandbox.ProjectId);
        Assert.Null(sandbox.Pool);
        Assert.False(sandbox.Labels.ContainsKey(SandboxLabels.Project));
    }

    [Fact]
    public void A_snapshot_reads_its_labels()
    {
        var snapshot = SandboxSnapshots.Build("py-deps", "sha256:" + new string('a', 64), Created, 1234, new Dictionary<string, string>
        {
            [SandboxLabels.Snapshot] = "true",
            [SandboxLabels.SnapshotOf] = "sandbox-1",
            [SandboxLabels.SnapshotOfId] = "abcdef",
            [SandboxLabels.SnapshotWorkspace] = WorkspaceModes.Copied,
            [SandboxLabels.Project] = "",
        }, "tcp://10.0.0.1:2376");
        Assert.Equal("sandbox-snapshot/py-deps:latest", snapshot.Image);
        Assert.Equal("aaaaaaaaaaaa", snapshot.ShortImageId);
        Assert.Equal("sandbox-1", snapshot.SourceSandbox);
        Assert.Equal(WorkspaceModes.Copied, snapshot.WorkspaceMode);
        Assert.Equal(Created, snapshot.CreatedAt);
        Assert.False(snapshot.Labels.ContainsKey(SandboxLabels.Project));
        Assert.True(SandboxSnapshots.IsSnapshot(new Dictionary<string, string> { [SandboxLabels.Snapshot] = "true" }));
        Assert.False(SandboxSnapshots.IsSnapshot(new Dictionary<string, string> { [SandboxLabels.Snapshot] = "" }));
        Assert.False(SandboxSnapshots.IsSnapshot(null));
    }

    [Fact]
    public void A_pool_of_a_snapshot_serves_that_snapshot_only()
    {
        var endpoint = EndpointResolver.Default.Resolve("unix:///var/run/docker.sock");
        var a = PoolSettings.Key(endpoint, new SandboxSpec { Image = SandboxSnapshots.ImageFor("a") });
        Assert.Equal(a, PoolSettings.Key(endpoint, new SandboxSpec { Image = SandboxSnapshots.ImageFor("a") }));
        Assert.NotEqual(a, PoolSettings.Key(endpoint, new SandboxSpec { Image = SandboxSnapshots.ImageFor("b") }));
    }
}
