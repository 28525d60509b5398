<#
.SYNOPSIS
    Project sandboxes: one running sandbox per project id, found again by that id from any session.

.DESCRIPTION
    New-Sandbox -ProjectId makes a sandbox for a project, with the folder ./projects/<id> (made when missing)
    at /workspace; here ./ is a temporary folder. The example looks around in it, installs a Python package
    with pip (the image already has `requests`, so pip is satisfied without a network), imports it, finds the
    sandbox again with Get-Sandbox -ProjectId, shows that a second sandbox for the same project is refused
    unless -Reuse (or -Replace) says what to do, copies a file out, and stops the sandbox in `finally`
    (the seed utility's create_project_sandbox and get_sandbox_by_project_id).

    Run it from the repository root after `./build.sh Build`:
        dotnet tool run pwsh examples/project.ps1
        dotnet tool run pwsh examples/project.ps1 -DockerHost ssh://me@build01.example.com   # a remote engine
    The image needs python3 and pip; by default it is $env:SANDBOX_POLYGLOT_IMAGE, else sandbox-local/polyglot:bookworm.
#>
param(
    [string] $Image = $(if ($env:SANDBOX_POLYGLOT_IMAGE) { $env:SANDBOX_POLYGLOT_IMAGE } else { 'sandbox-local/polyglot:bookworm' }),
    [string] $DockerHost
)
$ErrorActionPreference = 'Stop'
if ($PSStyle -and ([Console]::IsOutputRedirected -or $env:NO_COLOR)) { $PSStyle.OutputRendering = 'PlainText' }   # colour only on a terminal
# The polyglot image is made on this machine, never pulled: say how to make it, not what the registry said.
trap {
    if ($_.FullyQualifiedErrorId -like 'ImageNotFound,*' -and $_.TargetObject -eq $Image) {
        throw ("examples/project.ps1 needs the image $Image, which is not on the engine. It is made, not pulled: run " +
            "$(if ($Image -ne 'sandbox-local/polyglot:bookworm') { "SANDBOX_POLYGLOT_IMAGE=$Image " })./build.sh PolyglotImage once " +
            "(from the repository root, as root; about 2 minutes), or pass -Image with an image that has python3 and pip.")
    }
    break
}
$PSNativeCommandUseErrorActionPreference = $true   # a command that fails in the sandbox fails the example
if (-not (Get-Module Sandbox)) {
    $built = Get-ChildItem "$PSScriptRoot/../output/Sandbox/*/Sandbox.psd1" -ErrorAction Ignore |
        Sort-Object { [version]$_.Directory.Name } | Select-Object -Last 1
    Import-Module $(if ($env:SANDBOX_MODULE_PATH) { $env:SANDBOX_MODULE_PATH } elseif ($built) { $built.FullName } else { 'Sandbox' })
}
$engine = @{}
if ($DockerHost) { $engine.DockerHost = $DockerHost }

function Show([string] $Text) { Write-Host "`n>>> $Text" -ForegroundColor Green }

$projectId = "example-project-$PID"
$base = Join-Path ([IO.Path]::GetTempPath()) "sandbox-example-project-$PID"
$null = New-Item -ItemType Directory -Force -Path $base
Push-Location -LiteralPath $base
$sandbox = $null
try {
    Show "New-Sandbox -ProjectId $projectId -Image $Image"
    # Debian's python3 refuses pip installs outside a virtual environment unless told (PEP 668).
    $pipEnvironment = @{ PIP_BREAK_SYSTEM_PACKAGES = '1'; PIP_DISABLE_PIP_VERSION_CHECK = '1'; PIP_ROOT_USER_ACTION = 'ignore' }
    $sandbox = New-Sandbox @engine -ProjectId $projectId -Image $Image -Timeout 120 -Name "example-project-$PID" -Environment $pipEnvironment
    $sandbox | Format-List Name, ProjectId, CodePath, Image, State | Out-Host

    Show 'The project folder at /workspace'
    $sandbox | Invoke-SandboxCommand 'echo "Project directory: $(pwd)" && ls -la /workspace'

    Show 'Installing a Python package'
    $sandbox | Invoke-SandboxCommand 'python3 -m pip install --no-cache-dir requests'

    Show 'Using it'
    $sandbox | Invoke-SandboxCommand "python3 -c 'import requests; print(f""requests version: {requests.__version__}"")'"

    Show "Get-Sandbox -ProjectId $projectId  (works from any PowerShell session on this engine)"
    $found = Get-Sandbox @engine -ProjectId $projectId
    "Found $($found.Name) ($($found.State)), id $($found.Id.Substring(0, 12))"
    $found | Invoke-SandboxCommand 'echo "written from a second handle" > notes.txt'

    Show 'A second sandbox for the same project'
    try {
        $null = New-Sandbox @engine -ProjectId $projectId -Image $Image -Timeout 120
        throw 'New-Sandbox made a second sandbox for the project.'
    } catch [System.Management.Automation.RuntimeException] {
        if ($_.FullyQualifiedErrorId -notlike 'SandboxProjectConflict*') { throw }
        "Refused: $($_.FullyQualifiedErrorId.Split(',')[0])"
    }
    $again = New-Sandbox @engine -ProjectId $projectId -Image $Image -Timeout 120 -Reuse
    "With -Reuse: the same sandbox: $($again.Id -eq $sandbox.Id)"

    Show 'Copy-SandboxItem -FromSandbox notes.txt'
    $notes = Join-Path $base 'notes-copy.txt'
    Copy-SandboxItem -FromSandbox -Sandbox $sandbox -Path /workspace/notes.txt -Destination $notes
    "notes.txt says: $(Get-Content -LiteralPath $notes)"
}
finally {
    if ($sandbox) {
        Show "Stop-Sandbox -ProjectId $projectId"
        Stop-Sandbox @engine -ProjectId $projectId
        Write-Host "Removed $($sandbox.Name)."
    }
    Pop-Location
    Remove-Item -LiteralPath $base -Recurse -Force -ErrorAction Ignore
}
