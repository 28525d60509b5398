using System.Collections;
using System.Management.Automation;
using Xunit;
using Xunit.Abstractions;

namespace Sandbox.Tests;

/// <summary>The cmdlets as PowerShell sees them, and input errors that must never reach an engine.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class CmdletHostingTests
{
    // Nothing listens here: a cmdlet that got as far as the engine would fail with DockerEndpointUnavailable instead.
    const string NoEngine = "unix:///nonexistent.sock";
    static readonly string[] Cmdlets = { "New-Sandbox", "Invoke-SandboxCommand", "Copy-SandboxItem", "Get-Sandbox", "Stop-Sandbox", "Set-Sandbox", "Use-Sandbox",
        "Invoke-SandboxCode", "Get-SandboxLanguage", "Register-SandboxLanguage", "Start-SandboxPool", "Get-SandboxPool", "Stop-SandboxPool",
        "Enter-Sandbox", "New-SandboxSession", "Get-SandboxSession", "Remove-SandboxSession",
        "Get-SandboxStats", "Get-SandboxEvent", "Save-Sandbox", "Get-SandboxSnapshot", "Remove-SandboxSnapshot", "Suspend-Sandbox", "Resume-Sandbox" };

    readonly PowerShellFixture _ps;

    public CmdletHostingTests(PowerShellFixture ps, ITestOutputHelper output)
    {
        _ps = ps;
        output.WriteLine($"module: {ps.ModulePath} (cmdlets from {ps.AssemblyLocation})");
    }

    CmdletInfo Command(string name)
    {
        var result = _ps.Invoke($"Get-Command -Name '{name}' -Module Sandbox");
        Assert.Empty(result.Errors);
        return Assert.IsType<CmdletInfo>(Assert.Single(result.Objects));
    }

    static void HasParameters(CmdletInfo cmdlet, params string[] names)
    {
        foreach (var name in names)
            Assert.True(cmdlet.Parameters.ContainsKey(name), $"{cmdlet.Name} has no -{name}; it has -{string.Join(", -", cmdlet.Parameters.Keys)}");
    }

    static ErrorRecord AssertError(PowerShellFixture.Result result, string errorId, ErrorCategory category)
    {
        var error = result.SingleError();
        Assert.StartsWith(errorId, error.FullyQualifiedErrorId);
        Assert.Equal(errorId, error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(category, error.CategoryInfo.Category);
        Assert.Empty(result.Output);
        return error;
    }

    [Fact]
    public void Module_exports_exactly_its_cmdlets()
    {
        var result = _ps.Invoke("Get-Command -Module Sandbox");
        Assert.Empty(result.Errors);
        var names = result.Objects.Cast<CommandInfo>().Select(c => c.Name).OrderBy(n => n).ToArray();
        Assert.Equal(Cmdlets.OrderBy(n => n), names);
        Assert.All(result.Objects.Cast<CommandInfo>(), c => Assert.Equal(CommandTypes.Cmdlet, c.CommandType));
    }

    [Fact]
    public void New_Sandbox_parameters()
    {
        var cmd = Command("New-Sandbox");
        HasParameters(cmd, "Path", "CopyPath", "ProjectId", "Replace", "Reuse", "Image", "Timeout", "Limits", "Memory", "Cpus", "PidsLimit",
            "NetworkMode", "Port", "Environment", "Name", "OnStart", "OnKill", "DockerHost", "WhatIf", "Confirm");
        Assert.Equal(typeof(Hashtable), cmd.Parameters["Limits"].ParameterType);
        Assert.Equal(typeof(object[]), cmd.Parameters["Port"].ParameterType);
        Assert.Equal(typeof(int), cmd.Parameters["Timeout"].ParameterType);
        Assert.Equal(typeof(ScriptBlock), cmd.Parameters["OnKill"].ParameterType);
        Assert.Contains(cmd.OutputType, t => t.Name == "Sandbox.Sandbox" || t.Type == typeof(Sandbox));
    }

    [Fact]
    public void Use_Sandbox_has_ScriptBlock_at_position_0_and_every_New_Sandbox_parameter()
    {
        var use = Command("Use-Sandbox");
        var scriptBlock = Assert.Single(use.ParameterSets).Parameters.Single(p => p.Name == "ScriptBlock");
        Assert.Equal(0, scriptBlock.Position);
        Assert.True(scriptBlock.IsMandatory);
        // -AsJob is New-Sandbox's own: Use-Sandbox runs its block in the caller's session.
        HasParameters(use, Command("New-Sandbox").Parameters.Keys.Where(k => k != "AsJob").ToArray());
    }

    [Fact]
    public void Invoke_SandboxCommand_takes_Command_at_position_0()
    {
        var cmd = Command("Invoke-SandboxCommand");
        HasParameters(cmd, "Sandbox", "Id", "Name", "ProjectId", "Command", "ArgumentList", "WorkingDirectory", "Environment", "User", "TimeoutSec", "PassThru", "DockerHost");
        Assert.Equal("Sandbox", cmd.DefaultParameterSet);
        foreach (var set in cmd.ParameterSets)
            Assert.Equal(0, set.Parameters.Single(p => p.Name == "Command").Position);
        var bySandbox = cmd.ParameterSets.Single(s => s.Name == "Sandbox").Parameters.Single(p => p.Name == "Sandbox");
        Assert.True(bySandbox.ValueFromPipeline);
        foreach (var name in new[] { "Id", "Name", "ProjectId" })
            Assert.True(cmd.ParameterSets.Single(s => s.Name == name).Parameters.Single(p => p.Name == name).ValueFromPipelineByPropertyName, name);
    }

    [Fact]
    public void Stop_Sandbox_supports_WhatIf_and_All()
    {
        var cmd = Command("Stop-Sandbox");
        HasParameters(cmd, "WhatIf", "Confirm", "All", "Expired", "PassThru", "Sandbox", "Id", "Name", "ProjectId", "DockerHost");
        Assert.Contains(cmd.ParameterSets, s => s.Name == "All");
        Assert.True(cmd.ParameterSets.Single(s => s.Name == "Sandbox").Parameters.Single(p => p.Name == "Sandbox").ValueFromPipeline);
    }

    [Fact]
    public void Get_Sandbox_takes_Name_at_position_0_with_wildcards()
    {
        var cmd = Command("Get-Sandbox");
        HasParameters(cmd, "Name", "Id", "ProjectId", "DockerHost");
        Assert.Equal(0, cmd.ParameterSets.Single(s => s.Name == "Name").Parameters.Single(p => p.Name == "Name").Position);
        Assert.Contains(cmd.Parameters["Name"].Attributes, a => a is SupportsWildcardsAttribute);
        Assert.Equal(typeof(string[]), cmd.Parameters["DockerHost"].ParameterType);
    }

    [Fact]
    public void Copy_SandboxItem_parameters()
    {
        var cmd = Command("Copy-SandboxItem");
        HasParameters(cmd, "Path", "LiteralPath", "Destination", "ToSandbox", "FromSandbox", "Recurse", "PassThru", "WhatIf", "Confirm", "Sandbox", "Id", "Name", "ProjectId");
    }

    [Theory]
    [InlineData("New-Sandbox")]
    [InlineData("Invoke-SandboxCommand")]
    [InlineData("Copy-SandboxItem")]
    [InlineData("Get-Sandbox")]
    [InlineData("Stop-Sandbox")]
    [InlineData("Use-Sandbox")]
    public void Every_cmdlet_takes_DockerHost(string name)
    {
        HasParameters(Command(name), "DockerHost");
    }

    [Fact]
    public void Invalid_port_fails_before_the_engine()
    {
        var error = AssertError(_ps.Invoke($"New-Sandbox -Port 'abc' -DockerHost {NoEngine}"), "InvalidPort", ErrorCategory.InvalidArgument);
        Assert.Equal("abc", error.TargetObject);
        Assert.Contains("abc", error.Exception.Message);
    }

    [Fact]
    public void Invalid_seed_port_hashtable_fails_before_the_engine()
    {
        AssertError(_ps.Invoke($"New-Sandbox -Port @{{ '8080/tcp' = 70000 }} -DockerHost {NoEngine}"), "InvalidPort", ErrorCategory.InvalidArgument);
    }

    [Fact]
    public void Unknown_limit_fails_before_the_engine()
    {
        var error = AssertError(_ps.Invoke($"New-Sandbox -Limits @{{ bogus = 1 }} -DockerHost {NoEngine}"), "InvalidLimit", ErrorCategory.InvalidArgument);
        Assert.Equal("bogus", error.TargetObject);
        Assert.Contains("bogus", error.Exception.Message);
    }

    [Fact]
    public void Unknown_limit_fails_with_the_default_engine_too()
    {
        AssertError(_ps.Invoke("New-Sandbox -Limits @{ bogus = 1 }"), "InvalidLimit", ErrorCategory.InvalidArgument);
    }

    [Fact]
    public void Bad_limit_value_fails_before_the_engine()
    {
        var error = AssertError(_ps.Invoke($"New-Sandbox -Limits @{{ mem_limit = 'lots' }} -DockerHost {NoEngine}"), "InvalidLimit", ErrorCategory.InvalidArgument);
        Assert.Equal("mem_limit", error.TargetObject);
    }

    [Fact]
    public void Limits_from_powershell_values_pass_validation()
    {
        // PowerShell numbers (1GB is an Int32, 10GB an Int64, 1.5 a double) and nested hashtables reach the engine layer intact:
        // the error is the unreachable engine, not InvalidLimit.
        var result = _ps.Invoke($"New-Sandbox -Limits @{{ mem_limit = 1GB; memswap_limit = 10GB; cpus = 1.5; pids_limit = 50; storage_opt = @{{ size = '10G' }}; ulimits = @{{ nofile = '1024:2048' }} }} -DockerHost {NoEngine}");
        AssertError(result, "DockerEndpointUnavailable", ErrorCategory.ConnectionError);
    }

    [Fact]
    public void Swap_below_memory_is_InvalidLimit()
    {
        AssertError(_ps.Invoke($"New-Sandbox -Limits @{{ mem_limit = '1g'; memswap_limit = '512m' }} -DockerHost {NoEngine}"), "InvalidLimit", ErrorCategory.InvalidArgument);
    }

    [Fact]
    public void PidsLimit_zero_is_InvalidLimit()
    {
        AssertError(_ps.Invoke($"New-Sandbox -PidsLimit 0 -DockerHost {NoEngine}"), "InvalidLimit", ErrorCategory.InvalidArgument);
    }

    [Fact]
    public void Memory_below_6MB_is_a_parameter_binding_error()
    {
        var error = _ps.Invoke($"New-Sandbox -Memory 3MB -DockerHost {NoEngine}").SingleError();
        Assert.StartsWith("ParameterArgumentValidationError", error.FullyQualifiedErrorId);
    }

    [Fact]
    public void Upper_case_image_is_InvalidImageReference()
    {
        var error = AssertError(_ps.Invoke($"New-Sandbox -Image 'UPPER/Case' -DockerHost {NoEngine}"), "InvalidImageReference", ErrorCategory.InvalidArgument);
        Assert.Equal("UPPER/Case", error.TargetObject);
    }

    [Fact]
    public void Upper_case_repository_without_a_registry_is_InvalidImageReference()
    {
        // Docker refuses 'Team/tool' ("repository name must be lowercase"); on a real engine this currently escapes
        // as a raw Docker.DotNet.DockerApiException terminating error.
        AssertError(_ps.Invoke($"New-Sandbox -Image 'Team/tool' -DockerHost {NoEngine}"), "InvalidImageReference", ErrorCategory.InvalidArgument);
    }

    [Fact]
    public void Invalid_sandbox_name()
    {
        AssertError(_ps.Invoke($"New-Sandbox -Name 'has space' -DockerHost {NoEngine}"), "InvalidSandboxName", ErrorCategory.InvalidArgument);
    }

    [Fact]
    public void Missing_code_folder_is_PathNotFound()
    {
        var missing = Path.Combine(Path.GetTempPath(), "sandbox-tests-missing-" + Guid.NewGuid().ToString("N"));
        AssertError(_ps.Invoke($"New-Sandbox -Path '{missing}' -DockerHost {NoEngine}"), "PathNotFound", ErrorCategory.ObjectNotFound);
    }

    [Fact]
    public void Invalid_docker_host_is_InvalidDockerHost()
    {
        AssertError(_ps.Invoke("Get-Sandbox -DockerHost 'ftp://nowhere'"), "InvalidDockerHost", ErrorCategory.InvalidArgument);
        AssertError(_ps.Invoke("New-Sandbox -DockerHost 'ftp://nowhere'"), "InvalidDockerHost", ErrorCategory.InvalidArgument);
    }

    [Fact]
    public void Unreachable_engine_is_DockerEndpointUnavailable()
    {
        var error = AssertError(_ps.Invoke("Get-Sandbox -DockerHost unix:///tmp/does-not-exist.sock"), "DockerEndpointUnavailable", ErrorCategory.ConnectionError);
        Assert.Contains("/tmp/does-not-exist.sock", error.Exception.Message);
    }

    [Fact]
    public void Unreachable_engine_for_Stop_Sandbox_All()
    {
        AssertError(_ps.Invoke("Stop-Sandbox -All -DockerHost unix:///tmp/does-not-exist.sock -Confirm:$false"), "DockerEndpointUnavailable", ErrorCategory.ConnectionError);
    }

    [Fact]
    public void Invoke_SandboxCommand_needs_Command_or_ArgumentList_not_both()
    {
        var both = _ps.Invoke($"Invoke-SandboxCommand -Id abc -Command 'true' -ArgumentList 'true' -DockerHost {NoEngine}").SingleError();
        Assert.StartsWith("CommandAndArgumentList", both.FullyQualifiedErrorId);
        var none = _ps.Invoke($"Invoke-SandboxCommand -Id abc -DockerHost {NoEngine}").SingleError();
        Assert.StartsWith("CommandRequired", none.FullyQualifiedErrorId);
    }

    [Fact]
    public void Replace_and_Reuse_together_are_refused()
    {
        AssertError(_ps.Invoke($"New-Sandbox -ProjectId p -Replace -Reuse -DockerHost {NoEngine}"), "ConflictingSwitches", ErrorCategory.InvalidArgument);
    }

    [Fact]
    public void Stop_Sandbox_binds_WhatIf()
    {
        // Looking the id up needs the engine, so the error is the unreachable engine, not a binding error.
        AssertError(_ps.Invoke($"Stop-Sandbox -Id abc -WhatIf -DockerHost {NoEngine}"), "DockerEndpointUnavailable", ErrorCategory.ConnectionError);
    }
}
