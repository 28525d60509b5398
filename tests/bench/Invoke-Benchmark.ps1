<#
.SYNOPSIS
    Times the Sandbox module against what users would use instead, in the same run on the same engine.

.DESCRIPTION
    Each case runs once as a warm-up and then -Repeat times; the table shows the median and the spread (p10..p90)
    and, for the module's rows, the ratio of its median to each peer's. Results also go to JSON (-OutFile).

    How each tool is timed, so that the comparison is what a user pays:
      Sandbox     cmdlets called in this one warm pwsh (module loaded, engine connection open).
      docker CLI  each invocation, so its process start-up counts: that is what a script calling docker pays.
      Python SDK  one long-lived python3 per case (tests/bench/docker_sdk_bench.py) does the warm-up and the timed
                  repetitions itself; interpreter start-up and connecting are not timed.
    Budgets are checked and printed (PASS/FAIL); they never fail the run.

    Run through `./build.sh Bench`, which builds the module and starts the engines (sshd for ssh://) first.
#>
param(
    [int] $Repeat = 10,
    [string] $OutFile = (Join-Path $PSScriptRoot '../../output/bench/bench.json'),
    [string] $Image = 'sandbox-local/busybox:latest',
    # How many sandboxes exist while Get-Sandbox is timed.
    [int] $ListCount = 100,
    # Sandboxes created, used and stopped for each parallelism of the throughput section.
    [int] $ThroughputCount = 20,
    [int[]] $Parallelism = @(1, 5, 10),
    # Timed rounds of the throughput section (after one to warm up); the tools take turns within each.
    [int] $ThroughputRounds = 2,
    [int] $CopyMiB = 100,
    # The cluster rows (tests/bench/ClusterBenchmark.ps1): sandboxes created, used and stopped on the cluster and on one
    # engine, so many at a time, in so many alternating rounds.
    [int] $ClusterThroughputCount = 30,
    [int] $ClusterThrottle = 10,
    [int] $ClusterRounds = 2,
    # Only the cluster rows, printed and not saved: for working on them without the whole run.
    [switch] $ClusterOnly
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$PSNativeCommandUseErrorActionPreference = $false
if (-not (Get-Module Sandbox)) { Import-Module $env:SANDBOX_MODULE_PATH }

$results = [System.Collections.Generic.List[object]]::new()
$benchStarted = [Diagnostics.Stopwatch]::StartNew()
$python = (Get-Command python3 -ErrorAction Ignore)?.Source
$sdkScript = Join-Path $PSScriptRoot 'docker_sdk_bench.py'
$scratch = Join-Path ([IO.Path]::GetTempPath()) "sandbox-bench-$PID"
$null = New-Item -ItemType Directory -Force -Path $scratch
trap { Remove-Item -LiteralPath $scratch -Recurse -Force -ErrorAction Ignore; break }     # the 100 MiB payload, when a case fails

function Add-Row {
    param([string] $Group, [string] $Tool, [string] $Name, [double[]] $Samples, [double] $MiB = 0)
    $sorted = @($Samples | Sort-Object)
    $pick = { param($q) $sorted[[int][math]::Round(($sorted.Count - 1) * $q)] }
    $median = if ($sorted.Count % 2) { $sorted[($sorted.Count - 1) / 2] } else { ($sorted[$sorted.Count / 2 - 1] + $sorted[$sorted.Count / 2]) / 2 }
    $row = [pscustomobject]@{
        Group    = $Group
        Tool     = $Tool
        Name     = $Name
        MedianMs = [math]::Round($median, 1)
        P10Ms    = [math]::Round((& $pick 0.1), 1)
        P90Ms    = [math]::Round((& $pick 0.9), 1)
        MiBps    = if ($MiB) { [math]::Round($MiB / ($median / 1000), 1) } else { $null }
        Runs     = $sorted.Count
        Ratios   = [ordered]@{}
    }
    $results.Add($row)
    $rate = if ($row.MiBps) { "  {0,7:N1} MiB/s" -f $row.MiBps } else { '' }
    Write-Host ("  {0,-10} {1,-10} {2,-46} median {3,8:N1} ms  (p10 {4:N1}, p90 {5:N1}){6}" -f $Group, $Tool, $Name, $row.MedianMs, $row.P10Ms, $row.P90Ms, $rate)
}

# Times several ways of doing the same thing, interleaved (a, b, c, a, b, c, ...) so that load from elsewhere on the
# machine falls on all of them alike. A case is a hashtable: Tool, Name, and either Action (timed here, given what
# Setup returned; Cleanup gets the action's output, both untimed) or Sdk (a Python SDK case, timed by the python process).
function Measure-Group {
    param([string] $Group, [hashtable[]] $Cases, [int] $Times = $Repeat, [double] $MiB = 0)
    $Cases = @($Cases | Where-Object { -not $_.Sdk -or $python })
    $samples = @{}
    $sdk = @{}
    try {
        foreach ($case in $Cases | Where-Object Sdk) {
            $info = [Diagnostics.ProcessStartInfo]::new($python)
            foreach ($a in @($sdkScript, $case.Sdk, $Image) + @($case.File | Where-Object { $_ })) { $info.ArgumentList.Add($a) }
            $info.RedirectStandardInput = $info.RedirectStandardOutput = $true
            $process = [Diagnostics.Process]::Start($info)
            if ($process.StandardOutput.ReadLine() -ne 'ready') { throw "Python SDK case '$($case.Sdk)' did not start (see its error above)." }
            $sdk[$case.Name] = $process
        }
        foreach ($i in 0..$Times) {
            foreach ($case in $Cases) {
                if ($case.Sdk) {
                    $process = $sdk[$case.Name]
                    if (-not $process) { continue }
                    $process.StandardInput.WriteLine('go')
                    $line = $process.StandardOutput.ReadLine()
                    if ($null -eq $line) {
                        Write-Warning "Python SDK case '$($case.Sdk)' failed (see its error above): row skipped."
                        $sdk.Remove($case.Name); $process.Dispose(); $samples.Remove($case.Name)
                        continue
                    }
                    $elapsed = [double]::Parse($line, [cultureinfo]::InvariantCulture)
                }
                else {
                    $state = if ($case.Setup) { & $case.Setup }
                    $clock = [Diagnostics.Stopwatch]::StartNew()
                    $out = & $case.Action $state
                    $elapsed = $clock.Elapsed.TotalMilliseconds
                    if ($case.Cleanup) { $null = & $case.Cleanup $out $state }
                }
                if ($i -gt 0) { $samples[$case.Name] += @($elapsed) }     # run 0 is the warm-up
            }
        }
    }
    finally {
        foreach ($process in $sdk.Values) { $process.StandardInput.Close(); $null = $process.WaitForExit(30000); $process.Dispose() }
    }
    foreach ($case in $Cases | Where-Object { $samples[$_.Name] }) { Add-Row $Group ($case.Tool ?? 'Python SDK') $case.Name $samples[$case.Name] -MiB $MiB }
}

function Remove-Container([string] $Id) { docker rm -f $Id 2>&1 | Out-Null }

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

Write-Host "Benchmark: $Repeat runs a case after a warm-up; engine $(docker version --format '{{.Server.Version}}'), $([Environment]::ProcessorCount) cores"
$clusterScript = Join-Path $PSScriptRoot 'ClusterBenchmark.ps1'
if ($ClusterOnly) {
    . $clusterScript
    $results | Format-Table Group, Tool, Name, MedianMs, P10Ms, P90Ms -AutoSize | Out-String -Width 250 | Write-Host
    $clusterThroughput | Format-Table -AutoSize | Out-String -Width 250 | Write-Host
    Remove-Item -LiteralPath $scratch -Recurse -Force -ErrorAction Ignore
    return
}

# --- create-to-ready: a started container -------------------------------------------------------------------------
Measure-Group 'create' @(
    @{ Tool = 'Sandbox'; Name = 'New-Sandbox'; Action = { New-Sandbox -Image $Image -Timeout 600 }; Cleanup = { param($sb) $sb | Stop-Sandbox } }
    @{ Tool = 'docker CLI'; Name = 'docker run -d --init'; Action = { docker run -d --init $Image sleep 600 }; Cleanup = { param($id) Remove-Container $id } }
    @{ Sdk = 'create'; Name = 'containers.run(detach=True, init=True)' }
)

# --- stop ---------------------------------------------------------------------------------------------------------
Measure-Group 'stop' @(
    @{ Tool = 'Sandbox'; Name = 'Stop-Sandbox'; Setup = { New-Sandbox -Image $Image -Timeout 600 }; Action = { param($sb) $sb | Stop-Sandbox } }
    @{ Tool = 'docker CLI'; Name = 'docker rm -f'; Setup = { docker run -d --init $Image sleep 600 }; Action = { param($id) docker rm -f $id } }
    @{ Sdk = 'stop'; Name = 'remove(force=True)' }
)

# --- exec round trip ----------------------------------------------------------------------------------------------
# The engine API called directly from .NET: the three requests of an exec (create, start and read its stream to the
# end, inspect for the exit code) on one HttpClient that keeps its connections alive, compiled here so that no
# PowerShell runs between them. What the module adds to an exec is the difference.
Add-Type -TypeDefinition @'
using System;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

public static class SandboxBenchEngineApi
{
    static HttpClient _client;
    static string _version;

    public static void Connect(string socketPath)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancel) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancel);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        _client = new HttpClient(handler) { BaseAddress = new Uri("http://docker/") };
        using var version = JsonDocument.Parse(_client.GetStringAsync("version").GetAwaiter().GetResult());
        _version = "v" + version.RootElement.GetProperty("ApiVersion").GetString();
    }

    static StringContent Json(string text) => new StringContent(text, Encoding.UTF8, "application/json");

    public static long Exec(string container, string command)
    {
        var body = "{\"AttachStdout\":true,\"AttachStderr\":true,\"Cmd\":[" + JsonSerializer.Serialize(command) + "]}";
        using var created = _client.PostAsync(_version + "/containers/" + container + "/exec", Json(body)).GetAwaiter().GetResult();
        created.EnsureSuccessStatusCode();
        string id;
        using (var doc = JsonDocument.Parse(created.Content.ReadAsStringAsync().GetAwaiter().GetResult())) id = doc.RootElement.GetProperty("Id").GetString();
        var start = new HttpRequestMessage(HttpMethod.Post, _version + "/exec/" + id + "/start") { Content = Json("{\"Detach\":false,\"Tty\":false}") };
        using (var started = _client.SendAsync(start, HttpCompletionOption.ResponseHeadersRead).GetAwaiter().GetResult())
        {
            started.EnsureSuccessStatusCode();
            using var stream = started.Content.ReadAsStreamAsync().GetAwaiter().GetResult();
            var buffer = new byte[16384];
            while (stream.Read(buffer, 0, buffer.Length) > 0) { }
        }
        using var inspected = JsonDocument.Parse(_client.GetStringAsync(_version + "/exec/" + id + "/json").GetAwaiter().GetResult());
        return inspected.RootElement.GetProperty("ExitCode").GetInt64();
    }
}
'@
[SandboxBenchEngineApi]::Connect('/var/run/docker.sock')
$local = New-Sandbox -Image $Image -Timeout 600
$peer = "sandbox-bench-peer-$PID"
docker run -d --name $peer --init $Image sleep 600 | Out-Null
try {
    Measure-Group 'exec' @(
        @{ Tool = 'Sandbox'; Name = "Invoke-SandboxCommand 'true'"; Action = { $local | Invoke-SandboxCommand 'true' } }
        @{ Tool = 'docker CLI'; Name = 'docker exec true'; Action = { docker exec $peer true } }
        @{ Sdk = 'exec'; Name = "exec_run('true')" }
        @{ Tool = 'engine API'; Name = '.NET HttpClient, one keep-alive client'; Action = {
                if ([SandboxBenchEngineApi]::Exec($local.Id, 'true') -ne 0) { throw 'the direct exec of true did not exit 0' } }
        }
    )

    # --- copy 100 MiB in and out ----------------------------------------------------------------------------------
    $payload = Join-Path $scratch 'payload.bin'
    $bytes = [byte[]]::new(1MB)
    [Random]::new(7).NextBytes($bytes)
    $stream = [IO.File]::Create($payload)
    try { foreach ($i in 1..$CopyMiB) { $stream.Write($bytes, 0, $bytes.Length) } } finally { $stream.Dispose() }
    $outDir = Join-Path $scratch 'out'
    $resetOut = { Remove-Item -LiteralPath $outDir -Recurse -Force -ErrorAction Ignore; $null = New-Item -ItemType Directory -Path $outDir }

    Measure-Group 'copy-in' -MiB $CopyMiB @(
        @{ Tool = 'Sandbox'; Name = "Copy-SandboxItem $CopyMiB MiB in"; Action = { $local | Copy-SandboxItem -LiteralPath $payload -Destination /tmp } }
        @{ Tool = 'docker CLI'; Name = "docker cp $CopyMiB MiB in"; Action = { docker cp -q $payload "${peer}:/tmp/" } }
        @{ Sdk = 'copy-in'; Name = "put_archive $CopyMiB MiB (tar built in memory)"; File = $payload }
    )
    Measure-Group 'copy-out' -MiB $CopyMiB @(
        @{ Tool = 'Sandbox'; Name = "Copy-SandboxItem $CopyMiB MiB out"; Setup = $resetOut; Action = { $local | Copy-SandboxItem -FromSandbox -LiteralPath /tmp/payload.bin -Destination $outDir } }
        @{ Tool = 'docker CLI'; Name = "docker cp $CopyMiB MiB out"; Setup = $resetOut; Action = { docker cp -q "${peer}:/tmp/payload.bin" $outDir } }
        @{ Sdk = 'copy-out'; Name = "get_archive $CopyMiB MiB (extracted)"; File = $payload }
    )
    if ((Get-Item (Join-Path $outDir 'payload.bin')).Length -ne $CopyMiB * 1MB) { Write-Warning 'copy-out: the copied file has the wrong size' }
    Remove-Item -LiteralPath $payload, $outDir -Recurse -Force

    # --- warm exec over ssh:// ------------------------------------------------------------------------------------
    if ($sshHost -and $sshHome) {
        Invoke-WithSshHome {
            $remote = New-Sandbox -Image $Image -Timeout 600 -DockerHost $sshHost
            try {
                # The CLI over ssh:// starts ssh for every call (seconds): a few runs tell enough.
                Measure-Group 'exec-ssh' -Times ([math]::Min($Repeat, 5)) @(
                    @{ Tool = 'Sandbox'; Name = "Invoke-SandboxCommand 'true' (ssh://, warm)"; Action = { $remote | Invoke-SandboxCommand 'true' } }
                    @{ Tool = 'docker CLI'; Name = 'docker -H ssh:// exec true'; Action = { docker -H $sshHost exec $peer true } }
                )
            }
            finally { $remote | Stop-Sandbox }
        }
    }
    else { Write-Warning 'SANDBOX_TEST_SSH_HOST/SANDBOX_TEST_SSH_HOME are not set: ssh:// rows skipped (run through ./build.sh Bench).' }

    # --- sessions: a command in a shell that stays alive, against a plain exec each time ------------------------------
    if (Get-Command New-SandboxSession -ErrorAction Ignore) {
        $session = New-SandboxSession -Sandbox $local
        # 1 MiB of output, as 1024 lines of 1023 characters (and their newlines).
        $mib = 'head -c 1047552 /dev/zero | tr ''\0'' a | fold -w 1023'
        $Times = [math]::Max($Repeat, 30)   # a session command takes a millisecond or two: more runs for a steady median
        try {
            Measure-Group 'session' -Times $Times @(
                @{ Tool = 'Sandbox session'; Name = "Invoke-SandboxCommand -Session 'true'"; Action = { $session | Invoke-SandboxCommand 'true' } }
                @{ Tool = 'Sandbox'; Name = "Invoke-SandboxCommand 'true' (an exec each)"; Action = { $local | Invoke-SandboxCommand 'true' } }
                @{ Tool = 'docker CLI'; Name = 'docker exec true'; Action = { docker exec $peer true } }
                @{ Sdk = 'exec'; Name = "exec_run('true')" }
            )
            Measure-Group 'session-1mib' -Times $Times -MiB 1 @(
                @{ Tool = 'Sandbox session'; Name = 'Invoke-SandboxCommand -Session (1 MiB out)'; Action = { $null = $session | Invoke-SandboxCommand $mib } }
                @{ Tool = 'Sandbox'; Name = 'Invoke-SandboxCommand (1 MiB out, an exec)'; Action = { $null = $local | Invoke-SandboxCommand $mib } }
                @{ Tool = 'docker CLI'; Name = 'docker exec (1 MiB out)'; Action = { $null = docker exec $peer sh -c $mib } }
                @{ Sdk = 'exec-1mib'; Name = 'exec_run (1 MiB out)' }
            )
            # 1,000 small commands in a loop, as an agent issues them.
            $loop = [Diagnostics.Stopwatch]::StartNew()
            foreach ($i in 1..1000) { $null = $session | Invoke-SandboxCommand "echo $i" }
            $script:SessionLoopSeconds = [math]::Round($loop.Elapsed.TotalSeconds, 2)
            Write-Host ("  session    loop       1,000 session commands (echo)                 {0:N2} s" -f $script:SessionLoopSeconds)
        }
        finally { $session | Remove-SandboxSession }

        if ($sshHost -and $sshHome) {
            Invoke-WithSshHome {
                $remote = New-Sandbox -Image $Image -Timeout 600 -DockerHost $sshHost
                try {
                    $remoteSession = New-SandboxSession -Sandbox $remote
                    Measure-Group 'session-ssh' -Times $Times @(
                        @{ Tool = 'Sandbox session'; Name = "Invoke-SandboxCommand -Session 'true' (ssh://)"; Action = { $remoteSession | Invoke-SandboxCommand 'true' } }
                        @{ Tool = 'Sandbox'; Name = "Invoke-SandboxCommand 'true' (ssh://, an exec each)"; Action = { $remote | Invoke-SandboxCommand 'true' } }
                    )
                }
                finally { $remote | Stop-Sandbox }
            }
        }
    }
    else { Write-Warning 'This build has no New-SandboxSession: session rows skipped.' }
}
finally {
    $local | Stop-Sandbox
    Remove-Container $peer
}

# --- code kernels: a stateful Python call in a session, against a throwaway interpreter each time -----------------
$polyglot = if ($env:SANDBOX_POLYGLOT_IMAGE) { $env:SANDBOX_POLYGLOT_IMAGE } else { 'sandbox-local/polyglot:bookworm' }
if ((Get-Command New-SandboxSession -ErrorAction Ignore) -and (Get-Command Invoke-SandboxCode).Parameters.ContainsKey('Session') -and
    (docker image inspect $polyglot 2>$null)) {
    $py = New-Sandbox -Image $polyglot -Timeout 600
    $pyPeer = "sandbox-bench-py-$PID"
    docker run -d --name $pyPeer --init $polyglot sleep 600 | Out-Null
    try {
        $kernel = New-SandboxSession -Sandbox $py
        $null = $kernel | Invoke-SandboxCode -Language python -Code 'x = 0'
        Measure-Group 'kernel' -Times ([math]::Max($Repeat, 30)) @(
            @{ Tool = 'Sandbox session'; Name = "Invoke-SandboxCode -Session python 'x += 1'"; Action = { $kernel | Invoke-SandboxCode -Language python -Code 'x += 1' } }
            @{ Tool = 'Sandbox'; Name = "Invoke-SandboxCode python 'x = 1' (no session)"; Action = { $py | Invoke-SandboxCode -Language python -Code 'x = 1' } }
            @{ Tool = 'docker CLI'; Name = "docker exec python3 -c 'x = 1'"; Action = { docker exec $pyPeer python3 -c 'x = 1' } }
        )
        $kernel | Remove-SandboxSession
    }
    finally {
        $py | Stop-Sandbox
        Remove-Container $pyPeer
    }
}
else { Write-Warning "No code kernels in this build or no image ${polyglot}: kernel rows skipped." }

# --- Get-Sandbox with many sandboxes ------------------------------------------------------------------------------
$project = "sandbox-bench-list-$PID"
$missing = $ListCount - @(Get-Sandbox).Count
$made = @(if ($missing -gt 0) { 1..$missing }) | ForEach-Object -ThrottleLimit 4 -Parallel {
    Import-Module $using:env:SANDBOX_MODULE_PATH
    New-Sandbox -Image $using:Image -Timeout 600 -Name "$($using:project)-$_"
}
try {
    $count = @(Get-Sandbox).Count
    Measure-Group 'list' @(
        @{ Tool = 'Sandbox'; Name = "Get-Sandbox ($count sandboxes)"; Action = { Get-Sandbox } }
        @{ Tool = 'docker CLI'; Name = "docker ps -a --filter label ($count)"; Action = { docker ps -a --filter label=io.sandbox.managed=true } }
        @{ Sdk = 'list'; Name = "containers.list(all, label filter) ($count)" }
    )
}
finally {
    $made | ForEach-Object -ThrottleLimit 4 -Parallel {
        Import-Module $using:env:SANDBOX_MODULE_PATH
        $_ | Stop-Sandbox
    }
}

# --- cold Import-Module in a fresh pwsh ---------------------------------------------------------------------------
# Timed inside the new process, so pwsh's own start-up is left out; a one-function script module is the baseline.
$trivial = Join-Path $scratch 'Trivial.psm1'
Set-Content -LiteralPath $trivial -Value 'function Get-Nothing { }'
$pwshArgs = @()     # pwsh as a dotnet tool runs as 'dotnet pwsh.dll'
if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $pwshArgs = @(Join-Path $PSHOME 'pwsh.dll') }
function Measure-ColdImport([string] $Name, [string] $Module) {
    $command = "`$c = [Diagnostics.Stopwatch]::StartNew(); Import-Module '$($Module -replace "'", "''")'; `$c.Elapsed.TotalMilliseconds"
    $samples = foreach ($i in 0..$Repeat) {
        $ms = & ([Environment]::ProcessPath) @pwshArgs -NoProfile -NonInteractive -Command $command
        if ($i -gt 0) { [double]($ms | Select-Object -Last 1) }
    }
    Add-Row 'import' ($Name -eq 'Sandbox' ? 'Sandbox' : 'baseline') "Import-Module $Name (fresh pwsh)" $samples
}
Measure-ColdImport 'Sandbox' $env:SANDBOX_MODULE_PATH
Measure-ColdImport 'a one-function .psm1' $trivial

# --- warm pool (when the module has pools) ------------------------------------------------------------------------
if (Get-Command Start-SandboxPool -ErrorAction Ignore) {
    # One waiting sandbox for every take (the warm-up and the repetitions), so that no take waits for a refill.
    $pool = Start-SandboxPool -Size ($Repeat + 2) -Image $Image -Name "bench-$PID" -Wait
    try {
        # Its ratios include 'Sandbox': the unpooled New-Sandbox row above.
        Measure-Group 'create' @(
            @{ Tool = 'Sandbox pool'; Name = 'New-Sandbox (from a warm pool)'; Action = { New-Sandbox -Image $Image -Timeout 600 }; Cleanup = { param($sb) $sb | Stop-Sandbox } }
        )
    }
    finally { $pool | Stop-SandboxPool }
}

# --- gVisor: create-to-ready and an exec round trip under runsc against runc, interleaved ----------------------------
# Only where the engine has runsc registered (build.sh does it for the test engine); the ratio is runsc's to runc's.
if ("$(docker info --format '{{json .Runtimes}}' 2>$null)" -match '"runsc"') {
    Measure-Group 'create-runsc' @(
        @{ Tool = 'Sandbox'; Name = 'New-Sandbox -Runtime runsc'; Action = { New-Sandbox -Image $Image -Timeout 600 -Runtime runsc -NoPool }; Cleanup = { param($sb) $sb | Stop-Sandbox } }
        @{ Tool = 'runc'; Name = 'New-Sandbox (runc)'; Action = { New-Sandbox -Image $Image -Timeout 600 -NoPool }; Cleanup = { param($sb) $sb | Stop-Sandbox } }
    )
    $gvisor = New-Sandbox -Image $Image -Timeout 600 -Runtime runsc -NoPool
    $runc = New-Sandbox -Image $Image -Timeout 600 -NoPool
    try {
        Measure-Group 'exec-runsc' @(
            @{ Tool = 'Sandbox'; Name = "Invoke-SandboxCommand 'true' (runsc)"; Action = { $gvisor | Invoke-SandboxCommand 'true' } }
            @{ Tool = 'runc'; Name = "Invoke-SandboxCommand 'true' (runc)"; Action = { $runc | Invoke-SandboxCommand 'true' } }
        )
    }
    finally { $gvisor, $runc | Stop-Sandbox }
}
else { Write-Host '  (no runsc on the engine: the gVisor rows are left out)' }

# --- throughput: create, use and stop N sandboxes in parallel, against the docker CLI and the Python SDK ------------
# Sandbox: ForEach-Object -Parallel in this pwsh, as a user writes it; each runspace imports the module (timed: a user
# pays it). docker CLI: `docker run -d --init`, `docker exec`, `docker rm -f` one after the other in as many parallel
# shell processes (xargs -P). Python SDK: as many threads on one client. The tools take turns, round after round.
$cliLifecycle = 'id=$(docker run -d --init "$1" sleep 600) && docker exec "$id" true && docker rm -f "$id" >/dev/null'
$sdkThroughput = @{}
$throughputSamples = @{}
$throughputFailures = @{}
try {
    if ($python) {
        foreach ($p in $Parallelism) {
            $info = [Diagnostics.ProcessStartInfo]::new($python)
            foreach ($a in @($sdkScript, "throughput:${ThroughputCount}:$p", $Image)) { $info.ArgumentList.Add($a) }
            $info.RedirectStandardInput = $info.RedirectStandardOutput = $true
            $process = [Diagnostics.Process]::Start($info)
            if ($process.StandardOutput.ReadLine() -eq 'ready') { $sdkThroughput[$p] = $process } else { $process.Dispose() }
        }
    }
    foreach ($round in 0..$ThroughputRounds) {     # round 0 warms up
        foreach ($p in $Parallelism) {
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $failures = @(1..$ThroughputCount | ForEach-Object -ThrottleLimit $p -Parallel {
                    $ErrorActionPreference = 'Stop'
                    try {
                        Import-Module $using:env:SANDBOX_MODULE_PATH
                        $sb = New-Sandbox -Image $using:Image -Timeout 600
                        $sb | Invoke-SandboxCommand 'true'
                        $sb | Stop-Sandbox
                    }
                    catch { 1 }
                }).Count
            $samples = @{ Sandbox = $clock.Elapsed.TotalSeconds }

            $clock = [Diagnostics.Stopwatch]::StartNew()
            1..$ThroughputCount | xargs -P $p -n 1 bash -c $cliLifecycle _ $Image | Out-Null
            $samples['docker CLI'] = $clock.Elapsed.TotalSeconds

            if ($sdkThroughput[$p]) {
                $sdkThroughput[$p].StandardInput.WriteLine('go')
                $line = $sdkThroughput[$p].StandardOutput.ReadLine()
                if ($line) { $samples['Python SDK'] = [double]::Parse($line, [cultureinfo]::InvariantCulture) / 1000 }
            }
            if ($round -eq 0) { continue }
            $throughputFailures[$p] += $failures
            foreach ($tool in $samples.Keys) { $throughputSamples["$p|$tool"] += @($samples[$tool]) }
            Write-Host ("  throughput parallelism {0,2} round {1}: Sandbox {2:N2}/s{3}, docker CLI {4:N2}/s, Python SDK {5}" -f $p, $round,
                ($ThroughputCount / $samples.Sandbox), ($failures ? " ($failures failed)" : ''), ($ThroughputCount / $samples['docker CLI']),
                ($samples['Python SDK'] ? ('{0:N2}/s' -f ($ThroughputCount / $samples['Python SDK'])) : '-'))
        }
    }
}
finally {
    foreach ($process in $sdkThroughput.Values) { $process.StandardInput.Close(); $null = $process.WaitForExit(30000); $process.Dispose() }
}
function Get-PerSecond([int] $P, [string] $Tool) {
    $seconds = @($throughputSamples["$P|$Tool"] | Sort-Object)
    if (-not $seconds) { return $null }
    $median = if ($seconds.Count % 2) { $seconds[($seconds.Count - 1) / 2] } else { ($seconds[$seconds.Count / 2 - 1] + $seconds[$seconds.Count / 2]) / 2 }
    [pscustomobject]@{ PerSecond = [math]::Round($ThroughputCount / $median, 2); Low = [math]::Round($ThroughputCount / $seconds[-1], 2); High = [math]::Round($ThroughputCount / $seconds[0], 2) }
}
$throughput = foreach ($p in $Parallelism) {
    $ours = Get-PerSecond $p 'Sandbox'; $cli = Get-PerSecond $p 'docker CLI'; $sdk = Get-PerSecond $p 'Python SDK'
    [pscustomobject]@{
        Parallelism     = $p
        Sandboxes       = $ThroughputCount
        PerSecond       = $ours.PerSecond
        Spread          = "$($ours.Low)..$($ours.High)"
        CliPerSecond    = $cli.PerSecond
        CliSpread       = "$($cli.Low)..$($cli.High)"
        SdkPerSecond    = $sdk.PerSecond
        SdkSpread       = if ($sdk) { "$($sdk.Low)..$($sdk.High)" }
        VsCli           = if ($cli) { [math]::Round($ours.PerSecond / $cli.PerSecond, 2) }
        VsSdk           = if ($sdk) { [math]::Round($ours.PerSecond / $sdk.PerSecond, 2) }
        Failures        = [int]$throughputFailures[$p]
    }
}

# --- the same on a swarm of 3 nodes, against one engine --------------------------------------------------------------
. $clusterScript
$clusterSummary = foreach ($target in 'engine', 'cluster') {
    $rounds = @($clusterThroughput | Where-Object Target -EQ $target)
    if ($rounds) { [pscustomobject]@{ Target = $target; BestPerSecond = ($rounds.PerSecond | Measure-Object -Maximum).Maximum; Failures = ($rounds.Failures | Measure-Object -Sum).Sum } }
}
$clusterRatio = if (@($clusterSummary).Count -eq 2) { [math]::Round($clusterSummary[1].BestPerSecond / $clusterSummary[0].BestPerSecond, 2) }

# --- ratios and budgets -------------------------------------------------------------------------------------------
function Get-Row([string] $Group, [string] $Tool) { $results | Where-Object { $_.Group -eq $Group -and $_.Tool -eq $Tool } | Select-Object -First 1 }
foreach ($row in $results | Where-Object Tool -Like 'Sandbox*') {
    foreach ($peer in $results | Where-Object { $_.Group -eq $row.Group -and $_.Tool -ne $row.Tool }) {
        $row.Ratios[$peer.Tool] = [math]::Round($row.MedianMs / $peer.MedianMs, 2)
    }
}
function Get-Ratio([string] $Group, [string] $Peer) { (Get-Row $Group 'Sandbox')?.Ratios[$Peer] }
function Get-Throughput([string] $Group, [string] $Peer) {
    $ours = Get-Row $Group 'Sandbox'; $theirs = Get-Row $Group $Peer
    if ($ours -and $theirs) { [math]::Round($ours.MiBps / $theirs.MiBps, 2) }
}
$budgets = @(
    @{ Budget = 'create <= 0.9x docker run -d'; Value = Get-Ratio 'create' 'docker CLI'; Max = 0.9 }
    @{ Budget = 'create <= 1.0x Python SDK'; Value = Get-Ratio 'create' 'Python SDK'; Max = 1.0 }
    @{ Budget = 'exec <= 0.7x docker exec'; Value = Get-Ratio 'exec' 'docker CLI'; Max = 0.7 }
    @{ Budget = 'exec <= 1.0x Python SDK exec_run'; Value = Get-Ratio 'exec' 'Python SDK'; Max = 1.0 }
    @{ Budget = 'exec <= 1.05x engine API from .NET'; Value = Get-Ratio 'exec' 'engine API'; Max = 1.05 }
    @{ Budget = 'copy in MiB/s >= 1.0x docker cp'; Value = Get-Throughput 'copy-in' 'docker CLI'; Min = 1.0 }
    @{ Budget = 'copy out MiB/s >= 1.0x docker cp'; Value = Get-Throughput 'copy-out' 'docker CLI'; Min = 1.0 }
    foreach ($row in $throughput) {
        @{ Budget = "throughput at $($row.Parallelism) >= 1.0x docker CLI"; Value = $row.VsCli; Min = 1.0 }
    }
    @{ Budget = 'Get-Sandbox over 100 < 300 ms'; Value = (Get-Row 'list' 'Sandbox')?.MedianMs; Max = 300 }
    @{ Budget = 'New-Sandbox from a warm pool < 50 ms'; Value = (Get-Row 'create' 'Sandbox pool')?.MedianMs; Max = 50 }
    @{ Budget = 'session command <= 2 ms (local)'; Value = (Get-Row 'session' 'Sandbox session')?.MedianMs; Max = 2 }
    @{ Budget = 'session command <= 1/25 of a plain exec'; Value = (Get-Row 'session' 'Sandbox session')?.Ratios['Sandbox']; Max = 0.04 }
    @{ Budget = 'session command <= 5 ms (ssh://)'; Value = (Get-Row 'session-ssh' 'Sandbox session')?.MedianMs; Max = 5 }
    @{ Budget = 'stateful python call <= 5 ms'; Value = (Get-Row 'kernel' 'Sandbox session')?.MedianMs; Max = 5 }
    @{ Budget = '1,000 session commands < 3 s'; Value = $script:SessionLoopSeconds; Max = 3 }
    @{ Budget = 'warm ssh exec <= 2x local'; Value = $(
            $ssh = Get-Row 'exec-ssh' 'Sandbox'; $exec = Get-Row 'exec' 'Sandbox'
            if ($ssh -and $exec) { [math]::Round($ssh.MedianMs / $exec.MedianMs, 2) }); Max = 2.0
    }
) | ForEach-Object {
    $met = if ($null -eq $_.Value) { $null } elseif ($_.ContainsKey('Min')) { $_.Value -ge $_.Min } else { $_.Value -le $_.Max }
    [pscustomobject]@{
        Budget = $_.Budget
        Value  = $_.Value
        Result = if ($null -eq $met) { 'SKIPPED' } elseif ($met) { 'PASS' } else { 'FAIL' }
    }
}

Write-Host ''
$results | Format-Table Group, Tool, Name, MedianMs, P10Ms, P90Ms, MiBps,
@{ Label = 'vs docker CLI'; Expression = { $_.Ratios['docker CLI'] } },
@{ Label = 'vs Python SDK'; Expression = { $_.Ratios['Python SDK'] } },
@{ Label = 'vs engine API'; Expression = { $_.Ratios['engine API'] } },
@{ Label = 'vs baseline'; Expression = { $_.Ratios['baseline'] } },
@{ Label = 'vs Sandbox'; Expression = { if ($_.Tool -ne 'Sandbox') { $_.Ratios['Sandbox'] } } } -AutoSize | Out-String -Width 250 | Write-Host
$throughput | Format-Table -AutoSize | Out-String -Width 250 | Write-Host
if ($clusterThroughput) {
    $clusterThroughput | Format-Table -AutoSize | Out-String -Width 250 | Write-Host
    Write-Host ("Cluster throughput over one engine's (best rounds): {0}x" -f $clusterRatio)
}
$budgets | Format-Table -AutoSize | Out-String -Width 250 | Write-Host
Write-Host ('Ratios are medians divided (the module''s over the peer''s): below 1 is faster. Whole run {0:N0} s.' -f $benchStarted.Elapsed.TotalSeconds)

$null = New-Item -ItemType Directory -Force -Path (Split-Path $OutFile)
[ordered]@{
    Date       = (Get-Date).ToUniversalTime().ToString('o')
    Machine    = "$([Environment]::ProcessorCount) cores, $([Environment]::OSVersion.VersionString)"
    Engine     = (docker version --format '{{.Server.Version}}')
    Repeat     = $Repeat
    Rows       = $results
    Throughput = $throughput
    Cluster    = [ordered]@{ Throughput = $clusterThroughput; Ratio = $clusterRatio }
    Budgets    = $budgets
} | ConvertTo-Json -Depth 5 | Set-Content -LiteralPath $OutFile

# The same tables in Markdown, for README's Performance section.
$markdown = [Text.StringBuilder]::new()
$null = $markdown.AppendLine('| case | tool | median ms | p10..p90 ms | MiB/s | vs docker CLI | vs Python SDK | vs engine API |').AppendLine('|---|---|---:|---:|---:|---:|---:|---:|')
foreach ($row in $results) {
    $vsCli = if ($row.Ratios.Contains('docker CLI')) { $row.Ratios['docker CLI'] } else { $row.Ratios['baseline'] }
    $null = $markdown.AppendLine(('| {0} | {1}: {2} | {3:0.0} | {4:0.0}..{5:0.0} | {6} | {7} | {8} | {9} |' -f $row.Group, $row.Tool, ($row.Name -replace '\|', '\|'), $row.MedianMs, $row.P10Ms, $row.P90Ms,
            $row.MiBps, $vsCli, $row.Ratios['Python SDK'], $row.Ratios['engine API']))
}
$null = $markdown.AppendLine().AppendLine('| parallelism | Sandbox /s (spread) | docker CLI /s (spread) | Python SDK /s (spread) | vs docker CLI | vs Python SDK |').AppendLine('|---:|---:|---:|---:|---:|---:|')
foreach ($row in $throughput) {
    $null = $markdown.AppendLine("| $($row.Parallelism) | $($row.PerSecond) ($($row.Spread)) | $($row.CliPerSecond) ($($row.CliSpread)) | $($row.SdkPerSecond) ($($row.SdkSpread)) | $($row.VsCli) | $($row.VsSdk) |")
}
if ($clusterThroughput) {
    $null = $markdown.AppendLine().AppendLine('| target | round | sandboxes | at a time | seconds | sandboxes/s | failed | machine CPU busy | CPU-s a sandbox | nodes |').AppendLine('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|')
    foreach ($row in $clusterThroughput) {
        $null = $markdown.AppendLine("| $($row.Target) | $($row.Round) | $($row.Sandboxes) | $($row.Throttle) | $($row.Seconds) | $($row.PerSecond) | $($row.Failures) | $($row.MachineCpuPct)% | $($row.CpuSecondsPerSandbox) | $($row.Nodes) |")
    }
    $null = $markdown.AppendLine().AppendLine("Cluster throughput over one engine's (best rounds): $($clusterRatio)x")
}
$null = $markdown.AppendLine().AppendLine('| budget | value | result |').AppendLine('|---|---:|---|')
foreach ($row in $budgets) { $null = $markdown.AppendLine("| $($row.Budget) | $($row.Value) | $($row.Result) |") }
$markdownFile = [IO.Path]::ChangeExtension($OutFile, '.md')
Set-Content -LiteralPath $markdownFile -Value $markdown.ToString()

Remove-Item -LiteralPath $scratch -Recurse -Force -ErrorAction Ignore
Write-Host "Results: $OutFile, $markdownFile"
