<#
.SYNOPSIS
    Basic use: run a Python script from a local folder in a throwaway sandbox that always cleans up.

.DESCRIPTION
    Writes hello.py into a temporary folder, then Use-Sandbox starts a sandbox with that folder at /workspace,
    runs the script and a few shell commands in it, and removes the sandbox when the block ends, even on errors
    (the seed utility's `with Sandbox(code_dir=..., timeout=60) as sandbox:`).

    Run it from the repository root after `./build.sh Build`:
        dotnet tool run pwsh examples/basic.ps1
        dotnet tool run pwsh examples/basic.ps1 -DockerHost ssh://me@build01.example.com   # a remote engine
    The image needs python3; by default it is $env:SANDBOX_POLYGLOT_IMAGE, else sandbox-local/polyglot:bookworm.
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
        throw ("examples/basic.ps1 needs the image $Image, which is not on the engine. It is made, not pulled: run " +
            "$(if ($Image -ne 'sandbox-local/polyglot:bookworm') { "SANDBOX_POLYGLOT_IMAGE=$Image " })./build.sh PolyglotImage once " +
            "(from the repository root, as root; about 2 minutes), or pass -Image with an image that has python3.")
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

$code = Join-Path ([IO.Path]::GetTempPath()) "sandbox-example-basic-$PID"
$null = New-Item -ItemType Directory -Force -Path $code
Set-Content -LiteralPath (Join-Path $code 'hello.py') -Value @'
import platform
print("Hello from a Sandbox!")
print(f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, isolated in a container.")
'@
Write-Host "Code folder: $code"

try {
    Show "Use-Sandbox -Path $code -Image $Image -Timeout 60 { ... }"
    Use-Sandbox @engine -Path $code -Image $Image -Timeout 60 -Name "example-basic-$PID" {
        $sandbox = $_
        Write-Host "Started $($sandbox.Name) ($($sandbox.Image)), removed by $($sandbox.ExpiresAt.ToString('u')) at the latest."

        Show "Invoke-SandboxCommand 'python3 hello.py'"
        $sandbox | Invoke-SandboxCommand 'python3 hello.py' | Out-Host   # shown as it comes, not when the block ends

        Show "Invoke-SandboxCommand 'uname -a'"
        $sandbox | Invoke-SandboxCommand 'uname -a' | Out-Host

        Show "Invoke-SandboxCommand 'ls -la /workspace'"
        $sandbox | Invoke-SandboxCommand 'ls -la /workspace' | Out-Host
    }
    Write-Host "`nThe sandbox was removed when the Use-Sandbox block ended."
}
finally {
    Remove-Item -LiteralPath $code -Recurse -Force -ErrorAction Ignore
}
