# Loads the build of Sandbox.dll for this edition: net8.0 on PowerShell 7, netstandard2.0 on Windows PowerShell 5.1.
#
# PowerShell 7: Sandbox.dll loads into the default context, its dependencies (bin/net8.0/deps) into the module's own
# AssemblyLoadContext, set up before the cmdlets are imported; so another module that loaded other versions of the
# same assemblies first does not break the import. Windows PowerShell has no load contexts: the dependencies sit
# beside Sandbox.dll and load as usual.
$framework = if ($PSVersionTable.PSEdition -eq 'Core') { 'net8.0' } else { 'netstandard2.0' }
$assembly = [System.IO.Path]::Combine($PSScriptRoot, 'bin', $framework, 'Sandbox.dll')

if ($PSVersionTable.PSEdition -eq 'Core') {
    if (-not ('Sandbox.Hosting.DependencyLoadContext' -as [type])) {
        Add-Type -LiteralPath $assembly -ErrorAction Stop
    }
    [Sandbox.Hosting.DependencyLoadContext]::Initialize()
}
$inner = Import-Module -Name $assembly -ErrorAction Stop -PassThru

$ExecutionContext.SessionState.Module.OnRemove = {
    Remove-Module -ModuleInfo $inner -ErrorAction SilentlyContinue
}.GetNewClosure()
