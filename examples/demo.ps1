<#
.SYNOPSIS
    A two-minute tour of the Sandbox module: run a small shell program in a throwaway container.

.DESCRIPTION
    Makes a folder with hello.sh, starts a sandbox with that folder mounted at /workspace,
    runs the program, lists the sandbox, and removes it again (always, even on errors).
    `./build.sh Demo` builds the module and the local image sandbox-local/busybox:latest first.
#>
param(
    [string] $Image = 'sandbox-local/busybox:latest'
)
$ErrorActionPreference = 'Stop'
if ($PSStyle -and ([Console]::IsOutputRedirected -or $env:NO_COLOR)) { $PSStyle.OutputRendering = 'PlainText' }   # colour only on a terminal
$PSNativeCommandUseErrorActionPreference = $false   # a non-zero exit code is data here, not an error
if (-not (Get-Module Sandbox)) {
    $built = Get-ChildItem "$PSScriptRoot/../output/Sandbox/*/Sandbox.psd1" -ErrorAction Ignore |
        Sort-Object { [version]$_.Directory.Name } | Select-Object -Last 1
    Import-Module $(if ($env:SANDBOX_MODULE_PATH) { $env:SANDBOX_MODULE_PATH } elseif ($built) { $built.FullName } else { 'Sandbox' })
}

function Show([string] $Text) { Write-Host "`n>>> $Text" -ForegroundColor Green }

# A tiny program to run inside the sandbox.
$code = Join-Path ([IO.Path]::GetTempPath()) "sandbox-demo-$PID"
$null = New-Item -ItemType Directory -Force -Path $code
Set-Content -LiteralPath (Join-Path $code 'hello.sh') -Value @'
echo "Hello from $(hostname), a throwaway sandbox"
echo "I am $(id -un) in $(pwd), running $(uname -sr)"
echo "My files: $(ls | tr '\n' ' ')"
echo "This line goes to stderr" >&2
'@

$sandbox = $null
try {
    Show "New-Sandbox -Image $Image -Timeout 120 -Path $code"
    $sandbox = New-Sandbox -Image $Image -Timeout 120 -Path $code
    $sandbox | Format-List Name, ShortId, Image, State, ExpiresAt, WorkingDirectory, Workspace

    Show "Invoke-SandboxCommand 'sh hello.sh'"
    $sandbox | Invoke-SandboxCommand 'sh hello.sh'
    Write-Host "exit code: $LASTEXITCODE"

    Show "'banana', 'apple', 'cherry' | Invoke-SandboxCommand -Sandbox `$sandbox 'sort'  (piped strings are its stdin)"
    'banana', 'apple', 'cherry' | Invoke-SandboxCommand -Sandbox $sandbox 'sort'

    Show 'Invoke-SandboxCommand -PassThru (a result object, here for a failing command)'
    $result = $sandbox | Invoke-SandboxCommand 'echo counting; exit 3' -PassThru | Select-Object -Last 1
    $result | Format-List ExitCode, StdOut, DurationSec

    Show 'Get-Sandbox  (found through the engine, from any PowerShell session)'
    $timeLeft = @{ Name = 'TimeLeft'; Expression = { if ($_.TimeLeft) { $_.TimeLeft.ToString('hh\:mm\:ss') } } }
    Get-Sandbox | Format-Table Name, Image, State, $timeLeft -AutoSize
}
finally {
    if ($sandbox) {
        Show 'Stop-Sandbox'
        $sandbox | Stop-Sandbox
        Write-Host "Removed $($sandbox.Name)."
    }
    Remove-Item -LiteralPath $code -Recurse -Force -ErrorAction SilentlyContinue
}
