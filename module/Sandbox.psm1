# Loads the build of Sandbox.dll for this edition: net8.0 on PowerShell 7, netstandard2.0 on Windows PowerShell 5.1.
$framework = if ($PSVersionTable.PSEdition -eq 'Core') { 'net8.0' } else { 'netstandard2.0' }
$assembly = [System.IO.Path]::Combine($PSScriptRoot, 'bin', $framework, 'Sandbox.dll')
$inner = Import-Module -Name $assembly -ErrorAction Stop -PassThru

$ExecutionContext.SessionState.Module.OnRemove = {
    Remove-Module -ModuleInfo $inner -ErrorAction SilentlyContinue
}.GetNewClosure()
