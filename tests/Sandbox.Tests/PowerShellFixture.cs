using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Xunit;

namespace Sandbox.Tests;

/// <summary>
/// One runspace with the Sandbox module imported, shared by the in-process cmdlet tests: the built module
/// (output/Sandbox/*/Sandbox.psd1, or $env:SANDBOX_MODULE_PATH as build.ps1 Test sets it) when there is one,
/// else the Sandbox.dll beside the tests.
/// </summary>
public sealed class PowerShellFixture : IDisposable
{
    public Runspace Runspace { get; }
    /// <summary>What was imported, for the test output.</summary>
    public string ModulePath { get; }
    /// <summary>Where the Sandbox.dll that implements the cmdlets was loaded from.</summary>
    public string AssemblyLocation { get; } = "";

    public PowerShellFixture()
    {
        // The import sweep would remove expired sandboxes of other processes (e.g. a Pester run's) before their own
        // cleanup engine fires their -OnKill hooks; the tests here never need it.
        Environment.SetEnvironmentVariable("SANDBOX_NO_IMPORT_SWEEP", "1");

        ModulePath = FindModule();
        var state = InitialSessionState.CreateDefault2();
        state.ThrowOnRunspaceOpenError = true;
        if (ModulePath.EndsWith(".psd1", StringComparison.OrdinalIgnoreCase)) state.ImportPSModule(ModulePath);
        Runspace = RunspaceFactory.CreateRunspace(state);
        Runspace.Open();
        if (!ModulePath.EndsWith(".psd1", StringComparison.OrdinalIgnoreCase))
        {
            var result = Invoke($"Import-Module -Name '{ModulePath.Replace("'", "''")}' -ErrorAction Stop");
            if (result.Errors.Count > 0) throw new InvalidOperationException($"Import-Module {ModulePath} failed: {result.Errors[0]}");
        }
        var location = Invoke("(Get-Command New-Sandbox).ImplementingType.Assembly.Location");
        AssemblyLocation = location.Output.Count == 1 ? location.Output[0]?.ToString() ?? "" : "(New-Sandbox not found)";
    }

    public static string? RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "build.ps1"))) return dir.FullName;
        return null;
    }

    static string FindModule()
    {
        var fromBuild = Environment.GetEnvironmentVariable("SANDBOX_MODULE_PATH");
        if (!string.IsNullOrEmpty(fromBuild) && File.Exists(fromBuild)) return Path.GetFullPath(fromBuild);
        var root = RepoRoot();
        if (root != null)
        {
            var versions = new DirectoryInfo(Path.Combine(root, "output", "Sandbox"));
            if (versions.Exists)
            {
                var manifest = versions.GetDirectories()
                    .Select(d => (Dir: d, Version: Version.TryParse(d.Name, out var v) ? v : null))
                    .Where(d => d.Version != null && File.Exists(Path.Combine(d.Dir.FullName, "Sandbox.psd1"))
                                && File.Exists(Path.Combine(d.Dir.FullName, "bin", "net8.0", "Sandbox.dll")))
                    .OrderByDescending(d => d.Version)
                    .Select(d => Path.Combine(d.Dir.FullName, "Sandbox.psd1"))
                    .FirstOrDefault();
                if (manifest != null) return manifest;
            }
        }
        return Path.Combine(AppContext.BaseDirectory, "Sandbox.dll");
    }

    public sealed record Result(Collection<PSObject> Output, List<ErrorRecord> Errors, List<InformationRecord> Information)
    {
        public ErrorRecord SingleError()
        {
            Assert.True(Errors.Count == 1, $"expected one error, got {Errors.Count}: {string.Join(" | ", Errors.Select(e => e.FullyQualifiedErrorId + ": " + e))}");
            return Errors[0];
        }

        public IEnumerable<object> Objects => Output.Where(o => o != null).Select(o => o.BaseObject);
    }

    /// <summary>Runs a script in the shared runspace; terminating errors are reported like the others.</summary>
    public Result Invoke(string script, IDictionary<string, object?>? variables = null)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = Runspace;
        if (variables != null)
            foreach (var (name, value) in variables) Runspace.SessionStateProxy.SetVariable(name, value);
        ps.AddScript(script);
        Collection<PSObject> output;
        var errors = new List<ErrorRecord>();
        try { output = ps.Invoke(); }
        catch (RuntimeException e)
        {
            output = new Collection<PSObject>();
            errors.Add(e.ErrorRecord);
        }
        errors.InsertRange(0, ps.Streams.Error);
        return new Result(output, errors, ps.Streams.Information.ToList());
    }

    public void Dispose()
    {
        try
        {
            using var ps = PowerShell.Create();
            ps.Runspace = Runspace;
            ps.AddScript("Remove-Module Sandbox -ErrorAction SilentlyContinue").Invoke();
        }
        catch (Exception) { /* closing anyway */ }
        Runspace.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class PowerShellCollection : ICollectionFixture<PowerShellFixture>
{
    public const string Name = "PowerShell runspace";
}
