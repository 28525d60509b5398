<#
.SYNOPSIS
    Times the Sandbox module against what users would use instead, in the same run on the same engine.

.DESCRIPTION
    Each case is timed -Repeat times after a warm-up; the table shows the median and the spread (p10..p90) and,
    for the module's rows, the ratio of its median to each peer's. Results also go to JSON (-OutFile).
    Run through `./build.sh Bench`, which builds the module and starts the engines first.
#>
param(
    [int] $Repeat = 15,
    [string] $OutFile = (Join-Path $PSScriptRoot '../../output/bench/bench.json'),
    [string] $Image = 'sandbox-local/busybox:latest'
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$PSNativeCommandUseErrorActionPreference = $false
if (-not (Get-Module Sandbox)) { Import-Module $env:SANDBOX_MODULE_PATH }

$results = [System.Collections.Generic.List[object]]::new()

function Measure-Case {
    param([string] $Group, [string] $Name, [scriptblock] $Action, [int] $Times = $Repeat)
    & $Action | Out-Null                                   # warm-up, not counted
    $samples = foreach ($i in 1..$Times) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        & $Action | Out-Null
        $clock.Elapsed.TotalMilliseconds
    }
    $sorted = @($samples | Sort-Object)
    $row = [pscustomobject]@{
        Group    = $Group
        Name     = $Name
        MedianMs = [math]::Round($sorted[[int][math]::Floor(($sorted.Count - 1) / 2)], 1)
        P10Ms    = [math]::Round($sorted[[int][math]::Floor(($sorted.Count - 1) * 0.1)], 1)
        P90Ms    = [math]::Round($sorted[[int][math]::Ceiling(($sorted.Count - 1) * 0.9)], 1)
        Runs     = $sorted.Count
    }
    $results.Add($row)
    Write-Host ("  {0,-14} {1,-44} median {2,8:N1} ms" -f $Group, $Name, $row.MedianMs)
}

# The docker CLI over ssh:// reads ~/.ssh through the system ssh; the test home's wrapper points it at the test keys.
$sshHost = $env:SANDBOX_TEST_SSH_HOST
$sshHome = $env:SANDBOX_TEST_SSH_HOME
function Invoke-WithSshHome([scriptblock] $Block) {
    $saved = $env:HOME, $env:PATH
    try {
        $env:HOME = $sshHome
        $env:PATH = "$sshHome/bin$([IO.Path]::PathSeparator)$env:PATH"
        & $Block
    }
    finally { $env:HOME, $env:PATH = $saved }
}

Write-Host "Benchmark: $Repeat runs a case, engine $(docker version --format '{{.Server.Version}}')"

# --- exec round trip: Invoke-SandboxCommand 'true' vs docker exec, local socket and ssh:// ----------------------
$local = New-Sandbox -Image $Image -Timeout 600
$peer = "sandbox-bench-peer-$PID"
docker run -d --name $peer --init $Image sleep 600 | Out-Null
try {
    Measure-Case 'exec' 'Invoke-SandboxCommand (local socket)' { $local | Invoke-SandboxCommand 'true' }
    Measure-Case 'exec' 'docker exec (local socket)' { docker exec $peer true }
    if ($sshHost -and $sshHome) {
        Invoke-WithSshHome {
            $remote = New-Sandbox -Image $Image -Timeout 600 -DockerHost $sshHost
            try {
                Measure-Case 'exec-ssh' 'Invoke-SandboxCommand (ssh://, warm)' { $remote | Invoke-SandboxCommand 'true' }
                Measure-Case 'exec-ssh' 'docker -H ssh:// exec' { docker -H $sshHost exec $peer true } -Times ([math]::Min($Repeat, 8))
            }
            finally { $remote | Stop-Sandbox }
        }
    }
    else { Write-Warning 'SANDBOX_TEST_SSH_HOST/SANDBOX_TEST_SSH_HOME are not set: ssh:// rows skipped (run through ./build.sh Bench).' }
}
finally {
    $local | Stop-Sandbox
    docker rm -f $peer | Out-Null
}

# --- ratios ---------------------------------------------------------------------------------------------------
function Get-Median([string] $Name) { ($results | Where-Object Name -EQ $Name).MedianMs }
$ratios = [ordered]@{}
$budgets = @(
    @{ Name = 'warm ssh exec / local exec'; Value = { (Get-Median 'Invoke-SandboxCommand (ssh://, warm)') / (Get-Median 'Invoke-SandboxCommand (local socket)') }; Max = 2.0 }
    @{ Name = 'warm ssh exec / docker -H ssh:// exec'; Value = { (Get-Median 'Invoke-SandboxCommand (ssh://, warm)') / (Get-Median 'docker -H ssh:// exec') }; Max = 0.5 }
    @{ Name = 'local exec / docker exec'; Value = { (Get-Median 'Invoke-SandboxCommand (local socket)') / (Get-Median 'docker exec (local socket)') }; Max = 0.7 }
)
Write-Host ''
$table = foreach ($budget in $budgets) {
    $value = try { & $budget.Value } catch { $null }
    if ($null -eq $value -or [double]::IsNaN($value) -or [double]::IsInfinity($value)) { continue }
    $ratios[$budget.Name] = [math]::Round($value, 2)
    [pscustomobject]@{ Ratio = $budget.Name; Value = [math]::Round($value, 2); Budget = "<= $($budget.Max)"; Met = $value -le $budget.Max }
}
$results | Format-Table Group, Name, MedianMs, P10Ms, P90Ms, Runs -AutoSize | Out-Host
$table | Format-Table -AutoSize | Out-Host

$null = New-Item -ItemType Directory -Force -Path (Split-Path $OutFile)
[ordered]@{
    Date    = (Get-Date).ToUniversalTime().ToString('o')
    Machine = "$([Environment]::ProcessorCount) cores, $([Environment]::OSVersion.VersionString)"
    Engine  = (docker version --format '{{.Server.Version}}')
    Repeat  = $Repeat
    Rows    = $results
    Ratios  = $ratios
    Budgets = $table
} | ConvertTo-Json -Depth 5 | Set-Content -LiteralPath $OutFile
Write-Host "Results: $OutFile"
