<#
.SYNOPSIS
    Resource limits: memory, CPU and process limits, set two ways, seen from inside and enforced.

.DESCRIPTION
    The first sandbox takes the seed utility's `limits` hashtable (Docker SDK names: mem_limit, nano_cpus,
    pids_limit); the example reads the limits back from the sandbox object and from the container's cgroup.
    The second takes the PowerShell parameters -Memory, -Cpus and -PidsLimit, and shows them holding: a
    process that outgrows its memory is killed (the result says OomKilled), and a shell that starts process
    after process is refused once the limit is reached. Both sandboxes are stopped in `finally`.

    Run it from the repository root after `./build.sh Build`:
        dotnet tool run pwsh examples/resources.ps1
        dotnet tool run pwsh examples/resources.ps1 -DockerHost ssh://me@build01.example.com   # a remote engine
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

# What the kernel enforces, read from the container's own cgroup (v2, else v1).
$showCgroupLimits = @'
if [ -f /sys/fs/cgroup/memory.max ]; then
  echo "memory.max: $(cat /sys/fs/cgroup/memory.max) bytes"
  echo "cpu.max:    $(cat /sys/fs/cgroup/cpu.max) (quota and period in microseconds)"
  echo "pids.max:   $(cat /sys/fs/cgroup/pids.max)"
else
  echo "memory.max: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes) bytes"
  echo "cpu.max:    $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us) (quota and period in microseconds)"
  echo "pids.max:   $(cat /sys/fs/cgroup/pids/pids.max)"
fi
'@

$sandboxes = [System.Collections.Generic.List[object]]::new()
try {
    Show "New-Sandbox -Limits @{ mem_limit = '512m'; nano_cpus = 500000000; pids_limit = 50 }"
    $seedStyle = New-Sandbox @engine -Image $Image -Timeout 120 -Name "example-resources-$PID-1" `
        -Limits @{ mem_limit = '512m'; nano_cpus = 500000000; pids_limit = 50 }
    $sandboxes.Add($seedStyle)
    $seedStyle.Limits | Format-List | Out-Host

    Show 'The limits as the container sees them'
    $seedStyle | Invoke-SandboxCommand $showCgroupLimits
    $seedStyle | Invoke-SandboxCommand 'echo "CPUs visible: $(nproc) (the quota, not the CPU count, caps the time used)"'

    Show 'New-Sandbox -Memory 64MB -Cpus 0.5 -PidsLimit 20'
    $tight = New-Sandbox @engine -Image $Image -Timeout 120 -Name "example-resources-$PID-2" -Memory 64MB -Cpus 0.5 -PidsLimit 20
    $sandboxes.Add($tight)
    $tight | Invoke-SandboxCommand $showCgroupLimits

    Show 'Memory: a command that needs 200 MB in a 64 MB sandbox'
    # tail keeps its last line in memory, and 200 MB of zeros have no line break.
    $result = $tight | Invoke-SandboxCommand 'head -c 200m /dev/zero | tail' -PassThru -ErrorAction SilentlyContinue -ErrorVariable memoryError 6>$null
    $result | Format-List ExitCode, OomKilled, Duration | Out-Host
    if (-not $result.OomKilled) { throw 'The command was expected to be killed for using too much memory.' }
    "Killed for memory, as expected: $($memoryError[0].FullyQualifiedErrorId.Split(',')[0])"

    Show 'Processes: starting background processes until the limit of 20 refuses one'
    $tight | Invoke-SandboxCommand @'
for i in $(seq 1 40); do
  (sleep 3 &) 2>/dev/null || { echo "process $i refused: the pids limit holds"; break; }
done
'@
    Start-Sleep -Seconds 3   # the sleeps end; the sandbox can start processes again
    $tight | Invoke-SandboxCommand 'echo "and after they ended, a new one runs"'
}
finally {
    if ($sandboxes.Count) {
        Show 'Stop-Sandbox'
        $sandboxes | Stop-Sandbox
        Write-Host "Removed $($sandboxes.Name -join ', ')."
    }
}
