<#
.SYNOPSIS
    Managing several sandboxes: make them side by side, list them, find one by project, extend one, stop them.

.DESCRIPTION
    Sweeps sandboxes whose deadline has passed, shows what `Stop-Sandbox -All` would remove (with -WhatIf, so
    other people's sandboxes on a shared engine live on), makes three project sandboxes at once as background
    jobs, lists them with Get-Sandbox, looks one up by project id, moves its deadline with Set-Sandbox, runs a
    command in all three through the pipeline and stops them in `finally` (the seed utility's
    list_running_sandboxes, get_sandbox_by_project_id and kill_all_sandboxes).

    Run it from the repository root after `./build.sh Build`:
        dotnet tool run pwsh examples/manage.ps1
        dotnet tool run pwsh examples/manage.ps1 -DockerHost ssh://me@build01.example.com   # a remote engine
    Any image with a POSIX shell works; by default it is $env:SANDBOX_IMAGE, else sandbox-local/busybox:latest.
#>
param(
    [string] $Image = $(if ($env:SANDBOX_IMAGE) { $env:SANDBOX_IMAGE } else { 'sandbox-local/busybox:latest' }),
    [string] $DockerHost
)
$ErrorActionPreference = 'Stop'
if ($PSStyle -and ([Console]::IsOutputRedirected -or $env:NO_COLOR)) { $PSStyle.OutputRendering = 'PlainText' }   # colour only on a terminal
$PSNativeCommandUseErrorActionPreference = $true   # a command that fails in the sandbox fails the example
if (-not (Get-Module Sandbox)) {
    $built = Get-ChildItem "$PSScriptRoot/../output/Sandbox/*/Sandbox.psd1" -ErrorAction Ignore |
        Sort-Object { [version]$_.Directory.Name } | Select-Object -Last 1
    Import-Module $(if ($env:SANDBOX_MODULE_PATH) { $env:SANDBOX_MODULE_PATH } elseif ($built) { $built.FullName } else { 'Sandbox' })
}
$engine = @{}
if ($DockerHost) { $engine.DockerHost = $DockerHost }

function Show([string] $Text) { Write-Host "`n>>> $Text" -ForegroundColor Green }

$timeLeft = @{ Name = 'TimeLeft'; Expression = { if ($_.ExpiresAt) { ($_.ExpiresAt - [datetime]::UtcNow).ToString('hh\:mm\:ss') } } }
$base = Join-Path ([IO.Path]::GetTempPath()) "sandbox-example-manage-$PID"
$null = New-Item -ItemType Directory -Force -Path $base
Push-Location -LiteralPath $base   # the project folders ./projects/<id> go here
$sandboxes = @()
try {
    Show 'Stop-Sandbox -Expired  (removes sandboxes whose deadline has passed, if any are left)'
    Stop-Sandbox @engine -Expired -PassThru | ForEach-Object { "swept $($_.Name)" }

    Show 'Stop-Sandbox -All -WhatIf  (every sandbox of this module on the engine; -WhatIf only says so)'
    Stop-Sandbox @engine -All -WhatIf

    Show 'Three project sandboxes, made side by side with -AsJob'
    $jobs = 1..3 | ForEach-Object {
        New-Sandbox @engine -Image $Image -Timeout 120 -AsJob `
            -ProjectId "manage-example-$_-$PID" -Name "example-manage-$PID-$_"
    }
    $sandboxes = @($jobs | Receive-Job -Wait -AutoRemoveJob | Sort-Object Name)
    foreach ($sandbox in $sandboxes) {
        $number = $sandbox.Name.Split('-')[-1]
        $sandbox | Invoke-SandboxCommand "echo 'Sandbox $number is running' > /workspace/status.txt"
    }
    "made $($sandboxes.Count): $($sandboxes.Name -join ', ')"

    Show 'Get-Sandbox  (this example''s sandboxes; without a filter it lists every sandbox on the engine)'
    Get-Sandbox @engine -Name "example-manage-$PID-*" | Sort-Object Name |
        Format-Table Name, ProjectId, State, $timeLeft -AutoSize | Out-Host

    $projectId = "manage-example-1-$PID"
    Show "Get-Sandbox -ProjectId $projectId"
    $first = Get-Sandbox @engine -ProjectId $projectId
    $first | Format-List Id, Name, State, Image, CreatedAt, ExpiresAt | Out-Host

    Show 'Set-Sandbox -Timeout 600  (ten minutes from now, instead of two)'
    $before = $first.ExpiresAt
    $extended = $first | Set-Sandbox -Timeout 600 -PassThru
    "deadline moved from $($before.ToString('HH:mm:ss')) to $($extended.ExpiresAt.ToString('HH:mm:ss')) UTC"
    if ($extended.ExpiresAt -le $before) { throw 'Set-Sandbox did not move the deadline later.' }

    Show 'One command in every sandbox, through the pipeline'
    Get-Sandbox @engine -Name "example-manage-$PID-*" | Sort-Object Name | Invoke-SandboxCommand 'cat status.txt'
}
finally {
    if ($sandboxes) {
        Show 'Stop-Sandbox  (the three, through the pipeline)'
        $sandboxes | Stop-Sandbox
        $left = @(Get-Sandbox @engine -Name "example-manage-$PID-*")
        Write-Host "All closed; sandboxes of this example left: $($left.Count)."
    }
    Pop-Location
    Remove-Item -LiteralPath $base -Recurse -Force -ErrorAction Ignore
}
