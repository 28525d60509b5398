<#
.SYNOPSIS
    Runs every example in order: basic, project, resources, commands, manage, image, server, web-app, agent-loop.

.DESCRIPTION
    Each example runs in this PowerShell session, one after the other, with the same -DockerHost; a failing
    example is reported and the next one still runs. At the end a table shows each example's result and
    time, and the script exits with 1 when any failed. Every example cleans up its own sandboxes.

    Run it from the repository root after `./build.sh Build`:
        dotnet tool run pwsh examples/all.ps1
        dotnet tool run pwsh examples/all.ps1 -DockerHost ssh://me@build01.example.com   # all on a remote engine
    The examples pick their images from $env:SANDBOX_IMAGE and $env:SANDBOX_POLYGLOT_IMAGE (see each one).
#>
param(
    [string] $DockerHost
)
$ErrorActionPreference = 'Stop'
if ($PSStyle -and ([Console]::IsOutputRedirected -or $env:NO_COLOR)) { $PSStyle.OutputRendering = 'PlainText' }   # colour only on a terminal
if (-not (Get-Module Sandbox)) {
    $built = Get-ChildItem "$PSScriptRoot/../output/Sandbox/*/Sandbox.psd1" -ErrorAction Ignore |
        Sort-Object { [version]$_.Directory.Name } | Select-Object -Last 1
    Import-Module $(if ($env:SANDBOX_MODULE_PATH) { $env:SANDBOX_MODULE_PATH } elseif ($built) { $built.FullName } else { 'Sandbox' })
}
$engine = @{}
if ($DockerHost) { $engine.DockerHost = $DockerHost }

$examples = 'basic', 'project', 'resources', 'commands', 'manage', 'image', 'server', 'web-app', 'agent-loop'
$results = foreach ($example in $examples) {
    Write-Host "`n================ $example.ps1 ================" -ForegroundColor Cyan
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $failure = $null
    try {
        & (Join-Path $PSScriptRoot "$example.ps1") @engine | Out-Host
    } catch {
        $failure = $_
        Write-Host "$example.ps1 failed: $($_.Exception.Message)" -ForegroundColor Red
        Write-Host $_.ScriptStackTrace -ForegroundColor DarkGray
    }
    [pscustomobject]@{
        Example = "$example.ps1"
        Result  = if ($failure) { 'failed' } else { 'passed' }
        Seconds = [Math]::Round($clock.Elapsed.TotalSeconds, 1)
        Error   = if ($failure) { $failure.Exception.Message } else { '' }
    }
}

Write-Host "`n================ summary ================" -ForegroundColor Cyan
$results | Format-Table Example, Result, Seconds, Error -AutoSize -Wrap | Out-Host
$failed = @($results | Where-Object Result -EQ 'failed')
Write-Host "$($results.Count - $failed.Count) of $($results.Count) examples passed."
if ($failed) { exit 1 }
