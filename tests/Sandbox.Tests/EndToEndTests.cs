using System.Management.Automation;
using Xunit;
using Xunit.Abstractions;

namespace Sandbox.Tests;

/// <summary>
/// A few in-process runs against the real local engine with the locally built busybox image. When there is no
/// engine or no image, each test is skipped with the reason (and fails under CI, see <see cref="Prerequisites"/>).
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class EndToEndTests : IDisposable
{
    readonly PowerShellFixture _ps;
    readonly ITestOutputHelper _output;
    readonly List<string> _names = new();

    public EndToEndTests(PowerShellFixture ps, ITestOutputHelper output)
    {
        _ps = ps;
        _output = output;
    }

    /// <summary>Always runs: removes every sandbox this test made, through the module and then directly.</summary>
    public void Dispose()
    {
        foreach (var name in _names)
        {
            try { _ps.Invoke($"Stop-Sandbox -Name '{name}' -DockerHost {LocalEngine.Host} -Confirm:$false -ErrorAction SilentlyContinue"); }
            catch (Exception) { }
            LocalEngine.ForceRemove(name);
        }
    }

    string NewName()
    {
        var name = "xunit-" + Guid.NewGuid().ToString("N")[..10];
        _names.Add(name);
        return name;
    }

    Sandbox NewSandbox(string name, string extra = "")
    {
        var result = _ps.Invoke($"New-Sandbox -Image {LocalEngine.TestImage} -Name {name} -Timeout 120 -DockerHost {LocalEngine.Host} {extra}");
        Assert.True(result.Errors.Count == 0, string.Join(" | ", result.Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}")));
        return Assert.IsType<Sandbox>(Assert.Single(result.Objects));
    }

    [FactNeeding(Prerequisite.DockerEngine)]
    public void New_Invoke_Stop_round_trip()
    {
        var name = NewName();
        var sandbox = NewSandbox(name, "-Port '8080'");
        Assert.Equal(name, sandbox.Name);
        Assert.Equal("running", sandbox.State);
        Assert.Equal(LocalEngine.Host, sandbox.DockerHost);
        Assert.NotNull(sandbox.ExpiresAt);
        Assert.InRange(sandbox.ExpiresAt!.Value, DateTime.UtcNow.AddSeconds(100), DateTime.UtcNow.AddSeconds(125));

        using (var inspect = LocalEngine.Inspect(name))
        {
            Assert.NotNull(inspect);
            var labels = inspect!.RootElement.GetProperty("Config").GetProperty("Labels");
            Assert.Equal("true", labels.GetProperty("io.sandbox.managed").GetString());
            var host = inspect.RootElement.GetProperty("HostConfig");
            Assert.Equal(1L << 30, host.GetProperty("Memory").GetInt64());
            Assert.Equal(100L, host.GetProperty("PidsLimit").GetInt64());
            Assert.False(host.GetProperty("Privileged").GetBoolean());
            Assert.False(host.GetProperty("Init").GetBoolean());     // the deadline guard is PID 1 itself
            Assert.True(inspect.RootElement.GetProperty("Config").GetProperty("OpenStdin").GetBoolean());
            Assert.True(host.GetProperty("AutoRemove").GetBoolean());
            Assert.Equal("ALL", Assert.Single(host.GetProperty("CapDrop").EnumerateArray()).GetString());
            Assert.Contains(host.GetProperty("SecurityOpt").EnumerateArray(), o => o.GetString()!.StartsWith("no-new-privileges"));
            var binding = host.GetProperty("PortBindings").GetProperty("8080/tcp")[0];
            Assert.Equal("127.0.0.1", binding.GetProperty("HostIp").GetString());
        }
        var port = Assert.Single(sandbox.Ports);
        Assert.Equal(8080, port.ContainerPort);
        Assert.Equal("127.0.0.1", port.HostIp);
        Assert.InRange(port.HostPort, 1, 65535);

        var run = _ps.Invoke("$sb | Invoke-SandboxCommand 'echo hi'; $LASTEXITCODE", new Dictionary<string, object?> { ["sb"] = sandbox });
        Assert.Empty(run.Errors);
        Assert.Equal(new object[] { "hi", 0 }, run.Objects.ToArray());

        var whatIf = _ps.Invoke("$sb | Stop-Sandbox -WhatIf", new Dictionary<string, object?> { ["sb"] = sandbox });
        Assert.Empty(whatIf.Errors);
        Assert.Empty(whatIf.Output);
        using (var still = LocalEngine.Inspect(name)) Assert.NotNull(still);

        var stop = _ps.Invoke("$sb | Stop-Sandbox -PassThru -Confirm:$false", new Dictionary<string, object?> { ["sb"] = sandbox });
        Assert.Empty(stop.Errors);
        Assert.Equal("removed", Assert.IsType<Sandbox>(Assert.Single(stop.Objects)).State);
        Assert.Null(LocalEngine.Inspect(name));

        var gone = _ps.Invoke($"Get-Sandbox -Name '{name}' -DockerHost {LocalEngine.Host}");
        Assert.StartsWith("SandboxNotFound", gone.SingleError().FullyQualifiedErrorId);
    }

    [FactNeeding(Prerequisite.DockerEngine)]
    public void Exit_code_stderr_and_result()
    {
        var name = NewName();
        NewSandbox(name, "-Limits @{ mem_limit = '256m'; pids_limit = 50 }");
        using (var inspect = LocalEngine.Inspect(name))
        {
            var host = inspect!.RootElement.GetProperty("HostConfig");
            Assert.Equal(256L << 20, host.GetProperty("Memory").GetInt64());
            Assert.Equal(50L, host.GetProperty("PidsLimit").GetInt64());
        }

        var run = _ps.Invoke($"Invoke-SandboxCommand -Name '{name}' -DockerHost {LocalEngine.Host} -Command 'echo out; echo err >&2; exit 3' -PassThru");
        // A host collects stderr in its error stream, as for a native command: one record per line, its text the line;
        // a failing command adds no error unless $PSNativeCommandUseErrorActionPreference (or -ErrorOnExitCode) says so.
        var stderrLine = Assert.Single(run.Errors);
        Assert.Equal("NativeCommandError", stderrLine.FullyQualifiedErrorId);
        Assert.Equal("err", stderrLine.ToString());
        Assert.Equal("out", run.Objects.First());
        var result = Assert.IsType<SandboxCommandResult>(run.Objects.Last());
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("out", result.StdOut.TrimEnd());
        Assert.Equal("err", result.StdErr.TrimEnd());
        Assert.False(result.TimedOut);
        Assert.DoesNotContain(run.Information, i => i.Tags.Contains("stderr"));
        Assert.Equal(3, _ps.Invoke("$LASTEXITCODE").Objects.Single());

        var strict = _ps.Invoke($"$PSNativeCommandUseErrorActionPreference = $true; try {{ Invoke-SandboxCommand -Name '{name}' -DockerHost {LocalEngine.Host} 'exit 4' }} finally {{ $PSNativeCommandUseErrorActionPreference = $false }}");
        Assert.StartsWith("SandboxCommandFailed", strict.SingleError().FullyQualifiedErrorId);
    }

    [FactNeeding(Prerequisite.DockerEngine)]
    public void Copy_out_never_leaves_a_link_that_leads_outside_the_destination()
    {
        var name = NewName();
        NewSandbox(name);
        // x -> '.' and y -> 'x/../..': each looks inside when resolved as text, but y really leads to the parent of the destination.
        var setup = _ps.Invoke($"Invoke-SandboxCommand -Name '{name}' -DockerHost {LocalEngine.Host} 'mkdir -p /tmp/out && ln -s . /tmp/out/x && ln -s x/../.. /tmp/out/y && echo ok'");
        Assert.Equal("ok", Assert.Single(setup.Objects));

        var parent = Directory.CreateTempSubdirectory("sandbox-e2e-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(parent, "marker"), "outside");
            var dest = Directory.CreateDirectory(Path.Combine(parent, "dest")).FullName;
            var copy = _ps.Invoke($"Copy-SandboxItem -Name '{name}' -DockerHost {LocalEngine.Host} -FromSandbox -Path /tmp/out -Destination '{dest}' -Recurse");
            foreach (var e in copy.Errors) _output.WriteLine($"{e.FullyQualifiedErrorId}: {e}");
            Assert.True(Directory.Exists(Path.Combine(dest, "out")), "the folder was not copied");
            Assert.False(File.Exists(Path.Combine(dest, "out", "y", "marker")),
                "copy-out created dest/out/y -> x/../.., a link that reaches files outside the destination");
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [FactNeeding(Prerequisite.DockerEngine)]
    public void Argument_list_runs_without_a_shell()
    {
        var name = NewName();
        NewSandbox(name);
        var run = _ps.Invoke($"Invoke-SandboxCommand -Name '{name}' -DockerHost {LocalEngine.Host} -ArgumentList 'echo', 'a && b', '$HOME'");
        Assert.Empty(run.Errors);
        Assert.Equal("a && b $HOME", Assert.Single(run.Objects));
    }
}
