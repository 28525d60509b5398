<#
.SYNOPSIS
    The cluster rows of Invoke-Benchmark.ps1, which dot-sources this file (it uses its Measure-Group, Add-Row, $results,
    $Image and $Repeat) and reports what it leaves in $clusterThroughput.

.DESCRIPTION
    On the test swarm (SANDBOX_TEST_SWARM_MANAGER, a TLS manager, with the client certificates in
    SANDBOX_TEST_SWARM_CERT_PATH) against the local engine, with the same image and small limits (-Cpus 0.1 -Memory 64MB,
    reserved on the cluster) so that capacity never decides:
      create-cluster  New-Sandbox -Cluster, New-Sandbox on one engine, and `docker service create` polled with
                      `docker service ps` until its task runs (what a script using the CLI does: each call a process).
      stop-cluster    the Stop-Sandbox after each of those creates, timed apart (never inside the create's time).
      throughput      $ClusterThroughputCount sandboxes created, used (one exec) and stopped, $ClusterThrottle at a time
                      from runspaces of this process, on the cluster and on one engine, alternating for $ClusterRounds rounds.
    Without a swarm the rows are skipped with a warning; under CI (CI=true) that is an error.
#>

$clusterThroughput = @()
$manager = $env:SANDBOX_TEST_SWARM_MANAGER
$swarmCerts = $env:SANDBOX_TEST_SWARM_CERT_PATH
$swarmCli = @('-H', $manager, '--tlsverify', '--tlscacert', "$swarmCerts/ca.pem", '--tlscert', "$swarmCerts/cert.pem", '--tlskey', "$swarmCerts/key.pem")

# Another test may have killed a node for a while: wait until all of them are Ready again before timing anything.
function Get-SwarmProblem {
    if (-not $manager -or -not $swarmCerts) { return 'SANDBOX_TEST_SWARM_MANAGER and SANDBOX_TEST_SWARM_CERT_PATH are not set (build.ps1 sets them when it starts the test swarm, tests/setup/Start-TestSwarm.sh)' }
    $clock = [Diagnostics.Stopwatch]::StartNew()
    while ($true) {
        $nodes = @(docker @swarmCli node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}' 2>&1)
        $notReady = $null
        $problem = if ($LASTEXITCODE -ne 0) { "the manager $manager does not answer: $($nodes -join ' ')" }
        elseif ($nodes.Count -lt 3) { "the swarm at $manager has $($nodes.Count) nodes, not 3" }
        elseif ($notReady = @($nodes | Where-Object { $_ -notmatch ' Ready Active$' })) { "nodes not Ready: $($notReady -join ', ')" }
        if (-not $notReady -or $clock.Elapsed.TotalSeconds -gt 90) { return $problem }
        Start-Sleep -Seconds 2
    }
}

$swarmProblem = Get-SwarmProblem
if ($swarmProblem) {
    if ($env:CI -eq 'true') { throw "Cluster benchmark rows: $swarmProblem." }
    Write-Warning "Cluster benchmark rows skipped: $swarmProblem."
    return
}

$limits = @{ Image = $Image; Cpus = 0.1; Memory = 64MB; Timeout = 600 }
$savedTls = $env:DOCKER_TLS_VERIFY, $env:DOCKER_CERT_PATH
$env:DOCKER_TLS_VERIFY = '1'
$env:DOCKER_CERT_PATH = $swarmCerts
try {
    # --- create-to-ready and stop: the cluster, one engine, and the docker CLI's service --------------------------
    $stops = @{ cluster = [Collections.Generic.List[double]]::new(); engine = [Collections.Generic.List[double]]::new(); cli = [Collections.Generic.List[double]]::new() }
    $timedStop = { param([string] $Kind, [scriptblock] $Stop) $clock = [Diagnostics.Stopwatch]::StartNew(); $null = & $Stop; $stops[$Kind].Add($clock.Elapsed.TotalMilliseconds) }
    $serviceCount = 0
    Measure-Group 'create-cluster' @(
        @{ Tool = 'Sandbox cluster'; Name = 'New-Sandbox -Cluster (3 nodes, TLS)'; Action = { New-Sandbox @limits -Cluster $manager }
            Cleanup = { param($sb) & $timedStop cluster { $sb | Stop-Sandbox } }
        }
        @{ Tool = 'Sandbox'; Name = 'New-Sandbox (one engine, same limits)'; Action = { New-Sandbox @limits }
            Cleanup = { param($sb) & $timedStop engine { $sb | Stop-Sandbox } }
        }
        @{ Tool = 'docker CLI'; Name = 'docker service create -d, service ps until Running'
            Action = {
                $name = "sandbox-bench-svc-$PID-$((++$script:serviceCount))"
                $null = docker @swarmCli service create -d -q --no-resolve-image --name $name --restart-condition none --limit-cpu 0.1 --limit-memory 64M `
                    --reserve-cpu 0.1 --reserve-memory 64M --label io.sandbox.bench=true $Image sleep 600
                if ($LASTEXITCODE -ne 0) { throw "docker service create $name failed" }
                while (-not (@(docker @swarmCli service ps $name --format '{{.CurrentState}}') -like 'Running*')) { }
                $name
            }
            Cleanup = { param($name) & $timedStop cli { docker @swarmCli service rm $name } }
        }
    )
    # The first stop of each followed the warm-up create.
    Add-Row 'stop-cluster' 'Sandbox cluster' 'Stop-Sandbox (service removed, container gone)' @($stops.cluster | Select-Object -Skip 1)
    Add-Row 'stop-cluster' 'Sandbox' 'Stop-Sandbox (one engine)' @($stops.engine | Select-Object -Skip 1)
    Add-Row 'stop-cluster' 'docker CLI' 'docker service rm (returns before the container goes)' @($stops.cli | Select-Object -Skip 1)

    # --- throughput: N sandboxes created, used and stopped, a throttle's worth at a time ----------------------------
    $lifecycle = {
        param($Limits, $Cluster)
        $ErrorActionPreference = 'Stop'
        $target = if ($Cluster) { @{ Cluster = $Cluster } } else { @{} }
        $sb = New-Sandbox @Limits @target
        try { $null = $sb | Invoke-SandboxCommand 'true' } finally { $sb | Stop-Sandbox }
        $sb.Node ?? 'local'
    }
    # The whole machine's CPU (all processes: the engines, this pwsh, anything else running), to tell whether a round
    # was bound by the CPU the nodes share. /proc/stat counts in USER_HZ, 100 a second.
    $cpuTicks = {
        if (Test-Path /proc/stat) {
            $ticks = [long[]]((-split (Get-Content /proc/stat -TotalCount 1))[1..8])
            $all = ($ticks | Measure-Object -Sum).Sum
            [pscustomobject]@{ Busy = $all - $ticks[3] - $ticks[4]; All = $all }      # less idle and iowait
        }
    }
    $measureThroughput = {
        param([string] $Target, [int] $Round)
        $cluster = if ($Target -eq 'cluster') { $manager }
        $state = [initialsessionstate]::CreateDefault2()
        $state.ImportPSModule($env:SANDBOX_MODULE_PATH)
        $pool = [runspacefactory]::CreateRunspacePool(1, $ClusterThrottle, $state, $Host)
        $pool.Open()
        try {
            # Every runspace loads the module and connects (to the manager, on the cluster) before the clock starts.
            $warm = if ($cluster) { "`$null = Get-Sandbox -Cluster '$cluster' -Id none -ErrorAction Ignore" } else { '$null = Get-Sandbox -Id none -ErrorAction Ignore' }
            $jobs = 1..$ClusterThrottle | ForEach-Object { $ps = [powershell]::Create().AddScript($warm); $ps.RunspacePool = $pool; @{ Ps = $ps; Handle = $ps.BeginInvoke() } }
            $jobs | ForEach-Object { $null = $_.Ps.EndInvoke($_.Handle); $_.Ps.Dispose() }
            $cpuBefore = & $cpuTicks
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $jobs = 1..$ClusterThroughputCount | ForEach-Object {
                $ps = [powershell]::Create().AddScript($lifecycle).AddArgument($limits).AddArgument($cluster); $ps.RunspacePool = $pool
                @{ Ps = $ps; Handle = $ps.BeginInvoke() }
            }
            $nodes = [Collections.Generic.List[string]]::new()
            $failures = [Collections.Generic.List[string]]::new()
            foreach ($job in $jobs) {
                try { $nodes.Add(@($job.Ps.EndInvoke($job.Handle))[-1]) } catch { $failures.Add($_.Exception.InnerException?.Message ?? $_.Exception.Message) }
                $job.Ps.Dispose()
            }
            $seconds = $clock.Elapsed.TotalSeconds
            $cpuAfter = & $cpuTicks
            $busy = if ($cpuBefore -and $cpuAfter.All -gt $cpuBefore.All) { ($cpuAfter.Busy - $cpuBefore.Busy) / ($cpuAfter.All - $cpuBefore.All) }
            $spread = ($nodes | Group-Object | Sort-Object Name | ForEach-Object { "$($_.Name) $($_.Count)" }) -join ', '
            $row = [pscustomobject]@{
                Target = $Target; Round = $Round; Sandboxes = $ClusterThroughputCount; Throttle = $ClusterThrottle
                Seconds = [math]::Round($seconds, 2); PerSecond = [math]::Round($ClusterThroughputCount / $seconds, 2); Failures = $failures.Count
                MachineCpuPct = if ($null -ne $busy) { [math]::Round(100 * $busy) }
                CpuSecondsPerSandbox = if ($null -ne $busy) { [math]::Round(($cpuAfter.Busy - $cpuBefore.Busy) / 100 / $ClusterThroughputCount, 2) }
                Nodes = $spread
            }
            Write-Host ("  throughput {0,-10} round {1}: {2} sandboxes ({3} at a time) in {4:N2} s = {5:N2}/s; machine CPU {6}% busy, {7} CPU-s a sandbox; {8}{9}" -f $Target, $Round,
                $ClusterThroughputCount, $ClusterThrottle, $seconds, $row.PerSecond, $row.MachineCpuPct, $row.CpuSecondsPerSandbox, $spread, ($failures.Count ? "; $($failures.Count) failed: $($failures | Select-Object -First 1)" : ''))
            $row
        }
        finally { $pool.Dispose() }
    }
    $clusterThroughput = @(foreach ($round in 1..$ClusterRounds) {
            # Alternating, so that load from elsewhere on the machine falls on both alike.
            foreach ($target in ($round % 2 ? @('engine', 'cluster') : @('cluster', 'engine'))) { & $measureThroughput $target $round }
        })
}
finally {
    $env:DOCKER_TLS_VERIFY, $env:DOCKER_CERT_PATH = $savedTls
    # A create that failed half-way may leave a bench service behind; sandboxes are the module's to sweep.
    $left = @(docker @swarmCli service ls -q --filter label=io.sandbox.bench=true 2>$null)
    if ($left) { $null = docker @swarmCli service rm @left 2>&1 }
}
