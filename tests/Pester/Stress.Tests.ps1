#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Stress tests for issue 4: deadlines of 30 sandboxes at once (owner alive and owner killed), Set-Sandbox -Timeout in
# every layer, the Sandbox.Stopped/Sandbox.Expired events and -OnStart/-OnKill hooks, and stopping long work with
# Ctrl+C (PowerShell.Stop()). The figures (deadline lateness, stop times, peak memory) are printed with Write-Host.
#
# A background runspace polls `docker ps -a` for every container of this file (name prefix) and records when each
# appears (with its engine Created time) and when it is first missing; a `docker events` process records when the
# engine stopped (die) and deleted (destroy) each one, and how it died (exit code 0: its own deadline, PID 1 ended;
# anything else: removed from outside, by the module or a sweep). A sandbox's deadline is Created + timeout; it is
# gone at its destroy event (the poll, an upper bound, when the event is missing). Lateness = gone - deadline.
#
# Knobs: SANDBOX_STRESS_ROUNDS (default 1; more for a soak) rounds of each deadline test, SANDBOX_STRESS_COUNT (default 30) sandboxes,
# SANDBOX_STRESS_KILLED_BUDGET (default 12) seconds allowed for making them in the owner-killed case.

BeforeDiscovery {
    $rounds = if ($env:SANDBOX_STRESS_ROUNDS) { [int]$env:SANDBOX_STRESS_ROUNDS } else { 1 }
    $script:DeadlineRounds = @(1..$rounds | ForEach-Object { @{ Round = $_ } })
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'stress'

    $script:DeadlineCount = if ($env:SANDBOX_STRESS_COUNT) { [int]$env:SANDBOX_STRESS_COUNT } else { 30 }
    # Making 30 sandboxes takes 6-17 s on a small, busy engine. With the owner killed, every deadline must lie after the
    # kill, that is after the last one was made: there the deadlines are staggered 3..12 s after a budget for making
    # them, counted from the start (each -Timeout is chosen so that its deadline falls on that time). The budget is
    # 12 s, or more when the owner-alive rounds took longer to make theirs.
    $script:KilledBudgetSec = if ($env:SANDBOX_STRESS_KILLED_BUDGET) { [int]$env:SANDBOX_STRESS_KILLED_BUDGET } else { 12 }
    $script:SlowestMakeSec = 0
    $script:ModulePath = $env:SANDBOX_MODULE_PATH

    # --- the death watch: when did each container of this file appear, when was it created, when was it gone ---------
    $script:Watch = [hashtable]::Synchronized(@{
            Stop      = $false
            Seen      = [hashtable]::Synchronized(@{})
            Created   = [hashtable]::Synchronized(@{})
            Timeout   = [hashtable]::Synchronized(@{})
            Started   = [hashtable]::Synchronized(@{})
            Gone      = [hashtable]::Synchronized(@{})
            Polls     = 0
            MaxPollMs = 0
            Errors    = 0
            Exception = $null
        })
    $script:WatchShell = [powershell]::Create()
    $null = $script:WatchShell.AddScript({
            param($state, $prefix, $intervalMs)
            try {
                while (-not $state.Stop) {
                    $start = [datetime]::UtcNow
                    $names = @(docker ps -a --filter "name=^$prefix" --format '{{.Names}}' 2>$null | Where-Object { $_ })
                    $ok = $LASTEXITCODE -eq 0
                    $at = [datetime]::UtcNow      # every container missing from this answer was gone by now
                    $ms = [int]($at - $start).TotalMilliseconds
                    if ($ms -gt $state.MaxPollMs) { $state.MaxPollMs = $ms }
                    if (-not $ok) { $state.Errors++; Start-Sleep -Milliseconds $intervalMs; continue }
                    $state.Polls++
                    $present = [System.Collections.Generic.HashSet[string]]::new([string[]]$names)
                    foreach ($n in $names) { if (-not $state.Seen.ContainsKey($n)) { $state.Seen[$n] = $at } }
                    # New ones, any whose inspect failed before (a busy engine), and any not started yet.
                    $new = @($names | Where-Object { -not $state.Created.ContainsKey($_) -or -not $state.Started.ContainsKey($_) })
                    if ($new.Count) {
                        foreach ($line in @(docker container inspect --format '{{.Name}}|{{.Created}}|{{index .Config.Labels "io.sandbox.timeout"}}|{{.State.StartedAt}}' @new 2>$null)) {
                            $name, $created, $timeout, $started = "$line" -split '\|', 4
                            if (-not $created) { continue }
                            $name = $name.TrimStart('/')
                            $state.Created[$name] = [datetimeoffset]::Parse(($created -replace '(\.\d{7})\d+', '$1'), [cultureinfo]::InvariantCulture).UtcDateTime
                            $state.Timeout[$name] = $timeout
                            if ($started -and $started -notlike '0001-*') {
                                $state.Started[$name] = [datetimeoffset]::Parse(($started -replace '(\.\d{7})\d+', '$1'), [cultureinfo]::InvariantCulture).UtcDateTime
                            }
                        }
                    }
                    foreach ($n in @($state.Seen.Keys)) {
                        if (-not $present.Contains($n) -and -not $state.Gone.ContainsKey($n)) { $state.Gone[$n] = $at }
                    }
                    Start-Sleep -Milliseconds $intervalMs
                }
            }
            catch { $state.Exception = "$_" }
        }).AddArgument($script:Watch).AddArgument((Get-TestPrefix)).AddArgument(150)
    $script:WatchHandle = $script:WatchShell.BeginInvoke()

    # --- how each managed container died: exit code 0 = its own deadline (PID 1 ended), 137 = killed from outside ------
    $script:EventsFile = Join-Path ([IO.Path]::GetTempPath()) ('{0}-events.txt' -f (Get-TestPrefix))
    $script:EventsProcess = Start-Process -FilePath docker -PassThru -RedirectStandardOutput $script:EventsFile `
        -RedirectStandardError "$script:EventsFile.err" -ArgumentList @('events', '--filter', 'type=container', '--filter', 'event=die',
        '--filter', 'event=destroy', '--filter', 'label=io.sandbox.managed=true',
        '--format', '{{.Action}}|{{.Actor.Attributes.name}}|{{.Actor.Attributes.exitCode}}|{{.TimeNano}}')

    function Get-WatchedGone { param([string] $Name) $v = $script:Watch.Gone[$Name]; if ($v) { [datetime]$v } }
    function Get-WatchedCreated { param([string] $Name) $v = $script:Watch.Created[$Name]; if ($v) { [datetime]$v } }

    function Get-EngineEvent {
        # The die and destroy events of a container: Action, ExitCode, Time (UTC, from the engine's nanoseconds).
        param([string] $Name)
        Get-Content -LiteralPath $script:EventsFile -ErrorAction SilentlyContinue | ForEach-Object {
            $action, $n, $code, $nano = $_ -split '\|', 4
            if ($n -eq $Name) {
                [pscustomobject]@{ Action = $action; ExitCode = $code; Time = [DateTimeOffset]::FromUnixTimeMilliseconds([long]([decimal]$nano / 1000000)).UtcDateTime }
            }
        }
    }

    function Get-DeathCause {
        # 'own deadline' (PID 1 exited 0), 'removed' (killed from outside), or $null when no die event was seen.
        param([string] $Name)
        $die = Get-EngineEvent $Name | Where-Object Action -EQ 'die' | Select-Object -First 1
        if (-not $die) { return $null }
        if ($die.ExitCode -eq '0') { 'own deadline' } else { 'removed' }
    }

    function Get-DeadlineSpec {
        # $Count sandboxes with staggered timeouts of 3 s up to 12 s (three of each for 30), shortest first.
        param([Parameter(Mandatory)] [string] $Tag, [int] $Count = $script:DeadlineCount)
        for ($i = 0; $i -lt $Count; $i++) {
            $t = 3 + [math]::Floor($i * 10 / $Count)
            [pscustomobject]@{ Name = '{0}-{1}-s{2:00}-{3:00}' -f (Get-TestPrefix), $Tag, $t, $i; Stagger = [int]$t }
        }
    }

    function Measure-Deadline {
        # Waits (idle) until every sandbox of the spec is gone or the last deadline + allowance has passed; returns a row
        # per sandbox: Created (engine), Deadline = Created + Timeout, GoneAt (the engine's destroy event, once docker ps -a
        # lacks it too), LateSec = GoneAt - Deadline, PolledLate (first docker ps -a without it), DieLate (die event), Cause.
        param([Parameter(Mandatory)] [object[]] $Spec, [Parameter(Mandatory)] [double] $AllowedLateSec)
        $watch = $script:Watch
        $null = Wait-Until { @($Spec | Where-Object { -not $watch.Created.ContainsKey($_.Name) }).Count -eq 0 } -TimeoutSec 5 -IntervalMs 100
        $known = @($Spec | Where-Object { $watch.Created.ContainsKey($_.Name) })
        $last = if ($known) { ($known | ForEach-Object { (Get-WatchedCreated $_.Name).AddSeconds([int]$watch.Timeout[$_.Name]) } | Measure-Object -Maximum).Maximum }
                else { [datetime]::UtcNow }
        $null = Wait-Until { @($Spec | Where-Object { -not $watch.Gone.ContainsKey($_.Name) }).Count -eq 0 } `
            -Deadline ([datetime]$last).AddSeconds($AllowedLateSec + 1) -IntervalMs 200
        Start-Sleep -Milliseconds 500   # the last die events reach the events file
        foreach ($s in $Spec) {
            $created = Get-WatchedCreated $s.Name
            $polled = Get-WatchedGone $s.Name
            $engine = @(Get-EngineEvent $s.Name)
            $die = $engine | Where-Object Action -EQ 'die' | Select-Object -First 1
            $destroy = $engine | Where-Object Action -EQ 'destroy' | Select-Object -First 1
            # Gone: when the engine destroyed it (its event time), else when docker ps -a first lacked it (an upper bound).
            $gone = if ($destroy -and $polled) { $destroy.Time } else { $polled }
            $timeout = $watch.Timeout[$s.Name]     # the io.sandbox.timeout label: the -Timeout it was made with
            $deadline = if ($created -and $timeout) { $created.AddSeconds([int]$timeout) }
            [pscustomobject]@{
                Name        = $s.Name
                Timeout     = $timeout
                Created     = $created
                Deadline    = $deadline
                GoneAt      = $gone
                LateSec     = if ($gone -and $deadline) { [math]::Round(($gone - $deadline).TotalSeconds, 2) }
                PolledLate  = if ($polled -and $deadline) { [math]::Round(($polled - $deadline).TotalSeconds, 2) }
                DieLate     = if ($die -and $deadline) { [math]::Round(($die.Time - $deadline).TotalSeconds, 2) }
                StartDelay  = if ($created -and $watch.Started[$s.Name]) { [math]::Round(([datetime]$watch.Started[$s.Name] - $created).TotalSeconds, 2) }
                Cause       = Get-DeathCause $s.Name
            }
        }
    }

    function Write-DeadlineFigure {
        # Prints the figures for the lead and returns the misses: not gone, later than allowed, or more than 0.5 s early.
        param([object[]] $Rows, [double] $AllowedLateSec, [string] $What)
        $late = @($Rows | Where-Object { $null -ne $_.LateSec } | ForEach-Object LateSec | Sort-Object)
        $misses = @($Rows | Where-Object { $null -eq $_.LateSec -or $_.LateSec -gt $AllowedLateSec -or $_.LateSec -lt -0.5 })
        $median = if ($late.Count) { $late[[math]::Floor(($late.Count - 1) / 2)] } else { 'n/a' }
        $max = if ($late.Count) { $late[-1] } else { 'n/a' }
        $min = if ($late.Count) { $late[0] } else { 'n/a' }
        $own = @($Rows | Where-Object Cause -EQ 'own deadline').Count
        $removed = @($Rows | Where-Object Cause -EQ 'removed').Count
        $polled = @($Rows | Where-Object { $null -ne $_.PolledLate } | ForEach-Object PolledLate | Sort-Object)
        $die = @($Rows | Where-Object { $null -ne $_.DieLate } | ForEach-Object DieLate | Sort-Object)
        $load = "$(Get-Content -LiteralPath /proc/loadavg -ErrorAction SilentlyContinue)" -split ' ' | Select-Object -First 1
        Write-Host ("  FIGURE {0}: deadline misses {1} of {2} (not gone {3}, later than {4} s {5}, earlier than 0.5 s {6}); lateness (engine destroy event) max {7} s, median {8} s, min {9} s; ended by their own deadline {10}, removed from outside {11}; load average {12} on {13} CPUs" -f
            $What, $misses.Count, $Rows.Count, @($Rows | Where-Object { $null -eq $_.LateSec }).Count, $AllowedLateSec,
            @($Rows | Where-Object { $_.LateSec -gt $AllowedLateSec }).Count, @($Rows | Where-Object { $null -ne $_.LateSec -and $_.LateSec -lt -0.5 }).Count,
            $max, $median, $min, $own, $removed, $load, [Environment]::ProcessorCount)
        $start = @($Rows | Where-Object { $null -ne $_.StartDelay } | ForEach-Object StartDelay | Sort-Object)
        if ($polled.Count -and $die.Count -and $start.Count) {
            Write-Host ("    seen gone by docker ps -a polling: max {0} s, median {1} s late; stopped (die event): max {2} s, median {3} s, min {4} s; started after Created: max {5} s, median {6} s; slowest docker ps {7} ms" -f
                $polled[-1], $polled[[math]::Floor(($polled.Count - 1) / 2)], $die[-1], $die[[math]::Floor(($die.Count - 1) / 2)], $die[0],
                $start[-1], $start[[math]::Floor(($start.Count - 1) / 2)], $script:Watch.MaxPollMs)
        }
        $script:Watch.MaxPollMs = 0
        $misses
    }

    function Format-Row {
        param([object[]] $Rows)
        $Rows | ForEach-Object {
            '{0} timeout {1} s, created {2} (started +{3} s), deadline {4}, gone {5}, late {6} s (stopped {7} s, seen gone {8} s), {9}' -f $_.Name, $_.Timeout,
                $(if ($_.Created) { $_.Created.ToString('HH:mm:ss.fff') }), $_.StartDelay, $(if ($_.Deadline) { $_.Deadline.ToString('HH:mm:ss.fff') }),
                $(if ($_.GoneAt) { $_.GoneAt.ToString('HH:mm:ss.fff') } else { 'never' }), $_.LateSec, $_.DieLate, $_.PolledLate, $_.Cause
        } | Out-String
    }

    function Register-EventRecorder {
        # Register-EngineEvent with an action that keeps each event's sandbox and the thread it ran on; returns the list.
        # Actions run on this session's pipeline thread while it waits in Wait-Event (or between commands).
        # (Not through -MessageData: PowerShell hands the action a copy of it, or, for an empty list, no action at all.)
        param([Parameter(Mandatory)] [string] $SourceIdentifier)
        if (-not (Get-Variable -Name SandboxTestEvents -Scope Global -ErrorAction SilentlyContinue)) { $global:SandboxTestEvents = [hashtable]::Synchronized(@{}) }
        $list = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $global:SandboxTestEvents[$SourceIdentifier] = $list
        $null = Register-EngineEvent -SourceIdentifier $SourceIdentifier -Action {
            [void]$global:SandboxTestEvents[$Event.SourceIdentifier].Add([pscustomobject]@{ Sandbox = $Event.SourceArgs[0]; Thread = [Threading.Thread]::CurrentThread.ManagedThreadId })
        }
        , $list
    }

    function Wait-Idle {
        # Waits in Wait-Event (where queued event actions and hooks run) until the condition holds; returns whether it did.
        param([Parameter(Mandatory, Position = 0)] [scriptblock] $Condition, [double] $TimeoutSec = 5)
        $end = [datetime]::UtcNow.AddSeconds($TimeoutSec)
        while ($true) {
            if (& $Condition) { return $true }
            if ([datetime]::UtcNow -ge $end) { return $false }
            $null = Wait-Event -Timeout 1
        }
    }

    function Wait-RecordedEvent {
        # Waits idle (Wait-Event) until the list holds an event for the sandbox; returns it.
        param([Parameter(Mandatory)] [System.Collections.IList] $List, [Parameter(Mandatory)] [string] $Id, [double] $TimeoutSec = 10)
        $end = [datetime]::UtcNow.AddSeconds($TimeoutSec)
        while ($true) {
            $hit = @($List.ToArray() | Where-Object { $_.Sandbox.Id -eq $Id }) | Select-Object -First 1
            if ($hit -or [datetime]::UtcNow -ge $end) { return $hit }
            $null = Wait-Event -Timeout 1
        }
    }

    function Start-ModuleShell {
        # A [powershell] instance on its own runspace with the module imported, running $Script with $Arguments.
        param([Parameter(Mandatory)] [scriptblock] $Script, [object[]] $Arguments = @())
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$($script:ModulePath -replace "'", "''")'").Invoke()
        $ps.Commands.Clear()
        $null = $ps.AddScript($Script)
        foreach ($a in $Arguments) { $null = $ps.AddArgument($a) }
        [pscustomobject]@{ Shell = $ps; Handle = $ps.BeginInvoke() }
    }

    function Measure-Stop {
        # PowerShell.Stop() is what Ctrl+C does; returns the milliseconds it took.
        param([Parameter(Mandatory)] [powershell] $Shell)
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $Shell.Stop()
        $clock.Stop()
        [math]::Round($clock.Elapsed.TotalMilliseconds)
    }

    function Test-SleepRunning {
        # True when a 'sleep <seconds>' process runs in the sandbox (PID 1's own 'sleep 1' does not count).
        param([Parameter(Mandatory)] $Sandbox, [Parameter(Mandatory)] [int] $Seconds)
        $lines = @(Invoke-SandboxCommand -Sandbox $Sandbox 'ps' 6>$null)
        @($lines | Where-Object { $_ -match "\ssleep $Seconds\s*$" }).Count -gt 0
    }
}

AfterAll {
    if ($script:Watch) { $script:Watch.Stop = $true }
    if ($script:WatchShell) {
        try { $null = $script:WatchHandle.AsyncWaitHandle.WaitOne(3000); $script:WatchShell.Dispose() } catch { }
    }
    if ($script:EventsProcess -and -not $script:EventsProcess.HasExited) { $script:EventsProcess.Kill() }
    if ($script:EventsFile) { Remove-Item -LiteralPath $script:EventsFile, "$script:EventsFile.err" -ErrorAction SilentlyContinue }
    if (-not (Get-Module Sandbox) -and $env:SANDBOX_MODULE_PATH -and (Test-Path -LiteralPath $env:SANDBOX_MODULE_PATH)) {
        Import-Module $env:SANDBOX_MODULE_PATH -Global -Force
    }
    Complete-SandboxTest
    # Deadline volumes of this file's sandboxes (named after them) and the hand-made ones.
    $volumes = @(docker volume ls -q --filter "name=^$(Get-TestPrefix)" 2>$null | Where-Object { $_ })
    if ($volumes.Count) { docker volume rm -f @volumes *> $null }
}

Describe 'Stress: deadlines, movable deadlines, events and stopping work' {

    Context 'deadlines of 30 sandboxes while the pwsh that made them is alive and idle' {
        It 'removes every sandbox within 2 s of its deadline and none early (timeouts staggered 3..12 s, round <Round>)' -ForEach $DeadlineRounds {
            $spec = @(Get-DeadlineSpec -Tag "a$Round")
            $module = $script:ModulePath
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $made = @($spec | ForEach-Object -ThrottleLimit 5 -Parallel {
                    Import-Module $using:module
                    (New-Sandbox -Name $_.Name -Timeout $_.Stagger -ErrorAction Stop).Name
                })
            $clock.Stop()
            $made.Count | Should -Be $spec.Count
            Write-Host ('  made {0} sandboxes in {1:0.0} s' -f $made.Count, $clock.Elapsed.TotalSeconds)
            $script:SlowestMakeSec = [math]::Max($script:SlowestMakeSec, $clock.Elapsed.TotalSeconds)

            $rows = @(Measure-Deadline -Spec $spec -AllowedLateSec 2)
            $misses = @(Write-DeadlineFigure -Rows $rows -AllowedLateSec 2 -What "owner alive, round $Round")
            $script:Watch.Exception | Should -BeNullOrEmpty
            $misses | Should -BeNullOrEmpty -Because "every sandbox must be gone within 2 s of its deadline and not more than 0.5 s before it:`n$(Format-Row $misses)"
        }
    }

    Context 'with the module removed from this process' {
        BeforeAll {
            # Set-Sandbox layer 1 alone: an 8 s sandbox extended to 16 s, then no module code runs here any more.
            # (8 s, not less: on a loaded engine the start alone can take seconds of a deadline that counts from creation.)
            $script:Layer1 = New-Sandbox -Name (New-TestName 'layer1') -Timeout 8
            $script:Layer1SetStart = [datetime]::UtcNow
            $null = Set-Sandbox -Sandbox $script:Layer1 -Timeout 16
            $script:Layer1SetEnd = [datetime]::UtcNow
            $script:Layer1Created = Get-ContainerCreated $script:Layer1.Id

            # The owner's cleanup must not be ours: nothing of the module runs in this process until AfterAll.
            Remove-Module Sandbox -Force
        }

        AfterAll {
            Import-Module $env:SANDBOX_MODULE_PATH -Global -Force
        }

        It 'removes every sandbox within 5 s of its deadline after the owning pwsh is killed (deadlines staggered over 3..12 s, round <Round>)' -ForEach $DeadlineRounds {
            $work = New-Item -ItemType Directory -Force -Path (Join-Path $TestDrive "killed$Round")
            $spec = @(Get-DeadlineSpec -Tag "k$Round")
            $budget = [math]::Max($script:KilledBudgetSec, [math]::Ceiling($script:SlowestMakeSec * 1.25))
            $specFile = Join-Path $work 'spec.json'
            $spec | ConvertTo-Json | Set-Content -LiteralPath $specFile
            $ready = Join-Path $work 'ready.txt'
            $child = Start-ChildPwsh -WorkFolder $work -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
`$module = (Get-Module Sandbox).Path
`$spec = Get-Content -Raw -LiteralPath '$specFile' | ConvertFrom-Json
`$clock = [Diagnostics.Stopwatch]::StartNew()
# Each deadline falls $budget s + its stagger after this moment, whenever the sandbox gets made.
`$base = [datetime]::UtcNow.AddSeconds($budget)
`$made = @(`$spec | ForEach-Object -ThrottleLimit 5 -Parallel {
    Import-Module `$using:module
    `$timeout = [int][math]::Ceiling((`$using:base - [datetime]::UtcNow).TotalSeconds) + `$_.Stagger
    (New-Sandbox -Name `$_.Name -Timeout `$timeout -ErrorAction Stop).Name
})
Set-Content -LiteralPath '$ready.tmp' -Value `$PID, `$made.Count, `$clock.Elapsed.TotalSeconds
Move-Item -LiteralPath '$ready.tmp' -Destination '$ready'
Start-Sleep -Seconds 120
"@
            try {
                Wait-Until { Test-Path -LiteralPath $ready } -TimeoutSec 60 -IntervalMs 50 |
                    Should -BeTrue -Because "the child pwsh should have made the sandboxes: $(Get-ChildOutput $work)"
                $realPid, $count, $seconds = Get-Content -LiteralPath $ready
                Stop-Process -Id $realPid -Force          # SIGKILL: no cleanup code runs in the owner
                $killedAt = [datetime]::UtcNow
                Wait-Until { -not (Get-Process -Id $realPid -ErrorAction SilentlyContinue) } -TimeoutSec 5 | Should -BeTrue
                Write-Host ('  the child made {0} sandboxes in {1:0.0} s (budget {2} s) and was killed' -f $count, [double]$seconds, $budget)
                [int]$count | Should -Be $spec.Count

                $rows = @(Measure-Deadline -Spec $spec -AllowedLateSec 5)
                $misses = @(Write-DeadlineFigure -Rows $rows -AllowedLateSec 5 -What "owner killed, round $Round")
                $after = $rows | Where-Object Deadline | ForEach-Object { ($_.Deadline - $killedAt).TotalSeconds } | Measure-Object -Minimum -Maximum
                Write-Host ('  the deadlines came {0:0.0} s to {1:0.0} s after the kill' -f $after.Minimum, $after.Maximum)
                $script:Watch.Exception | Should -BeNullOrEmpty
                $notOrphaned = @($rows | Where-Object { $_.Deadline -and $_.Deadline -le $killedAt })
                $notOrphaned | Should -BeNullOrEmpty -Because "the owner must be dead before every deadline (it was killed at $($killedAt.ToString('HH:mm:ss.fff')) after making them in $seconds s):`n$(Format-Row $notOrphaned)"
                $misses | Should -BeNullOrEmpty -Because "with the owner killed every sandbox must be gone within 5 s of its deadline and not more than 0.5 s before it:`n$(Format-Row $misses)"
            }
            finally {
                if ($realPid) { Stop-Process -Id $realPid -Force -ErrorAction SilentlyContinue }
                if (-not $child.HasExited) { $child.Kill($true) }
            }
        }

        It 'honours a deadline moved by Set-Sandbox with the module gone: alive at 10 s, gone by ~18 s' {
            $name = $script:Layer1.Name
            Wait-Until { Get-WatchedGone $name } -Deadline $script:Layer1SetEnd.AddSeconds(18.5) -IntervalMs 200 |
                Should -BeTrue -Because 'the sandbox must end at its new deadline (16 s after Set-Sandbox) by itself'
            $gone = Get-WatchedGone $name
            Write-Host ('  FIGURE Set-Sandbox 8 s -> 16 s, module removed: gone {0:0.00} s after Set-Sandbox ({1})' -f ($gone - $script:Layer1SetEnd).TotalSeconds, (Get-DeathCause $name))
            $gone | Should -BeLessOrEqual $script:Layer1SetEnd.AddSeconds(18.5) -Because 'it must end by its new deadline (16 s after Set-Sandbox) + 2 s'
            $gone | Should -BeGreaterThan $script:Layer1Created.AddSeconds(10) -Because 'extended from 8 s to 16 s, it must outlive its first deadline'
            $gone | Should -BeGreaterThan $script:Layer1SetStart.AddSeconds(15.5) -Because 'it must not end before its new deadline'
        }
    }

    Context 'Set-Sandbox -Timeout moves every layer' {
        BeforeAll {
            $script:SetWork = New-Item -ItemType Directory -Force -Path (Join-Path $TestDrive 'set')
            $script:SweepResult = Join-Path $script:SetWork 'sweep.json'
            $go = Join-Path $script:SetWork 'go.txt'
            $script:Ext = @{ Name = New-TestName 'ext' }       # 4 s -> 12 s, this process alive
            $script:Swept = @{ Name = New-TestName 'swept' }   # 6 s -> 14 s, swept from another process in between
            $script:Zero = @{ Name = New-TestName 'zero' }     # 4 s -> no deadline
            $script:Short = @{ Name = New-TestName 'short' }   # 60 s -> 2 s

            # The other process starts now (it takes seconds) and waits for go.txt, written once the deadlines moved.
            $script:SweepChild = Start-ChildPwsh -WorkFolder $script:SetWork -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
while (-not (Test-Path -LiteralPath '$go')) { Start-Sleep -Milliseconds 50 }
function Stamp(`$d) { if (`$d) { ([datetime]`$d).ToString('o') } }
`$out = [ordered]@{}
`$before = Get-Sandbox -Name '$($script:Swept.Name)'
`$out.BeforeAt = Stamp ([datetime]::UtcNow)
`$out.BeforeExpiresAt = Stamp `$before.ExpiresAt
`$label = [long]`$before.Labels['io.sandbox.expires']
`$out.Label = `$label
while ([DateTimeOffset]::UtcNow.ToUnixTimeSeconds() -lt `$label + 1) { Start-Sleep -Milliseconds 50 }
`$out.SweepAt = Stamp ([datetime]::UtcNow)
`$out.Removed = @(Stop-Sandbox -Expired -PassThru -Confirm:`$false | ForEach-Object Name)
`$out.SweepEnd = Stamp ([datetime]::UtcNow)
`$after = Get-Sandbox -Name '$($script:Swept.Name)' -ErrorAction SilentlyContinue
`$out.AfterFound = [bool]`$after
`$out.AfterExpiresAt = Stamp `$after.ExpiresAt
`$zero = Get-Sandbox -Name '$($script:Zero.Name)' -ErrorAction SilentlyContinue
`$out.ZeroFound = [bool]`$zero
`$out.ZeroExpiresAt = Stamp `$zero.ExpiresAt
`$out | ConvertTo-Json | Set-Content -LiteralPath '$($script:SweepResult).tmp'
Move-Item -LiteralPath '$($script:SweepResult).tmp' -Destination '$($script:SweepResult)'
"@
            $timeouts = @{ $script:Ext.Name = 4; $script:Swept.Name = 6; $script:Zero.Name = 4; $script:Short.Name = 60 }
            $moves = @{ $script:Ext.Name = 12; $script:Swept.Name = 14; $script:Zero.Name = 0; $script:Short.Name = 2 }
            foreach ($entry in $script:Ext, $script:Swept, $script:Zero, $script:Short) {
                $entry.Sandbox = New-Sandbox -Name $entry.Name -Timeout $timeouts[$entry.Name]
                $entry.SetStart = [datetime]::UtcNow
                $entry.Updated = Set-Sandbox -Sandbox $entry.Sandbox -Timeout $moves[$entry.Name] -PassThru
                $entry.SetEnd = [datetime]::UtcNow
            }
            foreach ($entry in $script:Ext, $script:Swept, $script:Zero, $script:Short) {
                $entry.Created = Get-WatchedCreated $entry.Name
                if (-not $entry.Created) { $entry.Created = Get-ContainerCreated $entry.Sandbox.Id }
            }
            Set-Content -LiteralPath $go -Value 'go'
        }

        AfterAll {
            if ($script:SweepChild -and -not $script:SweepChild.HasExited) { $script:SweepChild.Kill($true) }
        }

        It 'shows the moved deadline: Set-Sandbox -PassThru and Get-Sandbox give the new ExpiresAt, labels keep the first' {
            $expected = $script:Ext.SetEnd.AddSeconds(12)
            [math]::Abs(($script:Ext.Updated.ExpiresAt - $expected).TotalSeconds) | Should -BeLessThan 1.5
            $script:Ext.Updated.TimeoutSec | Should -Be 12
            $found = Get-Sandbox -Name $script:Ext.Name
            [math]::Abs(($found.ExpiresAt - $expected).TotalSeconds) | Should -BeLessThan 1.5 -Because 'Get-Sandbox must show the moved deadline'
            $found.TimeLeft.TotalSeconds | Should -BeGreaterThan (($expected - [datetime]::UtcNow).TotalSeconds - 1.5)
            $label = [DateTimeOffset]::FromUnixTimeSeconds([long](Get-ContainerLabel $script:Ext.Sandbox.Id 'io.sandbox.expires')).UtcDateTime
            [math]::Abs(($label - $script:Ext.Created.AddSeconds(4)).TotalSeconds) | Should -BeLessThan 1.5

            (Get-Sandbox -Name $script:Zero.Name).ExpiresAt | Should -BeNullOrEmpty
            (Get-Sandbox -Name $script:Zero.Name).TimeLeft | Should -BeNullOrEmpty
            $short = Get-Sandbox -Name $script:Short.Name -ErrorAction SilentlyContinue
            if ($short) { ($short.ExpiresAt - $script:Short.SetEnd).TotalSeconds | Should -BeLessThan 3 }
        }

        It 'keeps the deadline file read-only inside: code in the sandbox cannot move its own deadline, even as root' {
            $before = Invoke-SandboxCommand -Sandbox $script:Ext.Sandbox 'cat /run/sandbox/deadline'
            [long]$before | Should -BeGreaterThan 0
            $lines = @(Invoke-SandboxCommand -Sandbox $script:Ext.Sandbox -Command (
                    'echo uid=$(id -u); touch /run/sandbox/deadline 2>/dev/null; echo touch=$?; ' +
                    '(echo 0 > /run/sandbox/deadline) 2>/dev/null; echo write=$?; ' +
                    'rm -f /run/sandbox/deadline 2>/dev/null; echo rm=$?; ' +
                    'mount -o remount,rw /run/sandbox 2>/dev/null; echo remount=$?') 6>$null)
            $lines | Should -Contain 'uid=0'
            $lines | Should -Not -Contain 'touch=0'
            $lines | Should -Not -Contain 'write=0'
            $lines | Should -Not -Contain 'rm=0'
            $lines | Should -Not -Contain 'remount=0'
            Invoke-SandboxCommand -Sandbox $script:Ext.Sandbox 'cat /run/sandbox/deadline' | Should -Be $before
        }

        It 'removes a sandbox shortened from 60 s to 2 s within ~4 s' {
            $name = $script:Short.Name
            Wait-Until { Get-WatchedGone $name } -Deadline $script:Short.SetEnd.AddSeconds(4) -IntervalMs 100 |
                Should -BeTrue -Because 'a deadline moved to 2 s from now must end the sandbox'
            $gone = Get-WatchedGone $name
            Write-Host ('  FIGURE Set-Sandbox 60 s -> 2 s: gone {0:0.00} s after Set-Sandbox ({1})' -f ($gone - $script:Short.SetEnd).TotalSeconds, (Get-DeathCause $name))
            $gone | Should -BeLessOrEqual $script:Short.SetEnd.AddSeconds(4)
            ($gone - $script:Short.SetStart).TotalSeconds | Should -BeGreaterThan 1 -Because 'not before its new deadline'
        }

        It 'keeps a sandbox whose deadline was removed with -Timeout 0 past its first deadline' {
            Wait-Until { $false } -Deadline $script:Zero.Created.AddSeconds(7.5) | Out-Null
            Get-WatchedGone $script:Zero.Name | Should -BeNullOrEmpty
            (Get-ContainerInspect $script:Zero.Name).State.Running | Should -BeTrue
            Stop-Sandbox -Name $script:Zero.Name
        }

        It 'is not removed by Stop-Sandbox -Expired in another process after its label deadline passed' {
            $script:SweepChild.WaitForExit(30000) | Should -BeTrue
            Test-Path -LiteralPath $script:SweepResult | Should -BeTrue -Because "the other pwsh should have swept: $(Get-ChildOutput $script:SetWork)"
            $r = Get-Content -Raw -LiteralPath $script:SweepResult | ConvertFrom-Json
            $sweepAt = [datetimeoffset]::Parse($r.SweepAt).UtcDateTime
            $labelAt = [DateTimeOffset]::FromUnixTimeSeconds([long]$r.Label).UtcDateTime
            $sweepAt | Should -BeGreaterThan $labelAt -Because 'the sweep must run after the label deadline'
            $sweepAt | Should -BeLessThan $script:Swept.SetStart.AddSeconds(13) -Because 'and before the new deadline'

            @($r.Removed) | Should -Not -Contain $script:Swept.Name
            @($r.Removed) | Should -Not -Contain $script:Zero.Name -Because 'a sandbox without a deadline any more is not expired either'
            $r.AfterFound | Should -BeTrue
            $expected = $script:Swept.SetEnd.AddSeconds(14)
            [math]::Abs(([datetimeoffset]::Parse($r.AfterExpiresAt).UtcDateTime - $expected).TotalSeconds) | Should -BeLessThan 1.5 -Because 'past its label, Get-Sandbox elsewhere reads the moved deadline'
            $r.ZeroFound | Should -BeTrue
            $r.ZeroExpiresAt | Should -BeNullOrEmpty
            Get-WatchedGone $script:Swept.Name | Should -BeNullOrEmpty
            Test-ContainerExists $script:Swept.Sandbox.Id | Should -BeTrue
        }

        It 'keeps an extended sandbox alive past its first deadline and removes it by ~12-14 s, this process alive' {
            foreach ($entry in $script:Ext, $script:Swept) {
                $timeout = if ($entry -eq $script:Ext) { 12 } else { 14 }
                $name = $entry.Name
                Wait-Until { Get-WatchedGone $name } -Deadline $entry.SetEnd.AddSeconds($timeout + 2.5) -IntervalMs 200 |
                    Should -BeTrue -Because "$name must end at its new deadline, $timeout s after Set-Sandbox"
                $gone = Get-WatchedGone $name
                Write-Host ('  FIGURE Set-Sandbox -> {0} s, owner alive: gone {1:0.00} s after Set-Sandbox ({2})' -f $timeout, ($gone - $entry.SetEnd).TotalSeconds, (Get-DeathCause $name))
                $gone | Should -BeLessOrEqual $entry.SetEnd.AddSeconds($timeout + 2.5)
                $gone | Should -BeGreaterThan $entry.Created.AddSeconds(6) -Because 'it must outlive its first deadline'
                $gone | Should -BeGreaterThan $entry.SetStart.AddSeconds($timeout - 1.5) -Because 'it must not end before its new deadline'
            }
        }
    }

    Context 'Stop-Sandbox -Expired and moved deadlines of leftovers' {
        BeforeAll {
            function New-Leftover {
                # A sandbox whose own timer did not fire (PID 1 is a plain sleep), with the module's labels, a deadline
                # volume and a deadline file, as Set-Sandbox leaves them.
                param([string] $What, [long] $LabelExpires, [long] $FileDeadline)
                $name = New-TestName $What
                $volume = "$name-deadline-test"
                # Not labelled as a deadline volume: a sweep of this process prunes labelled ones that no container uses,
                # which this one is until the leftover starts (AfterAll removes it by name).
                docker volume create $volume | Out-Null
                docker run --rm -v "${volume}:/run/sandbox" (Get-TestImage) sh -c "echo $FileDeadline > /run/sandbox/deadline" | Out-Null
                docker run -d --name $name --label io.sandbox.managed=true --label "io.sandbox.expires=$LabelExpires" `
                    --label io.sandbox.timeout=60 --label 'io.sandbox.owner=elsewhere:1' --label io.sandbox.workdir=/workspace `
                    --label "io.sandbox.deadline-volume=$volume" -v "${volume}:/run/sandbox:ro" (Get-TestImage) sleep 300 | Out-Null
                $LASTEXITCODE | Should -Be 0
                $name
            }
            $script:Now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
        }

        It 'removes a leftover whose extended deadline passed too, and keeps one whose extended deadline is still ahead' {
            $passed = New-Leftover 'extpassed' -LabelExpires ($script:Now - 120) -FileDeadline ($script:Now - 30)
            $ahead = New-Leftover 'extahead' -LabelExpires ($script:Now - 120) -FileDeadline ($script:Now + 300)
            Stop-Sandbox -Expired -Confirm:$false
            Test-ContainerExists $passed | Should -BeFalse
            (Get-ContainerInspect $ahead).State.Running | Should -BeTrue
        }

        It 'removes a leftover whose deadline was shortened and has passed, though its label lies ahead' {
            $shortened = New-Leftover 'shortened' -LabelExpires ($script:Now + 300) -FileDeadline ($script:Now - 30)
            Stop-Sandbox -Expired -Confirm:$false
            Test-ContainerExists $shortened | Should -BeFalse -Because 'Set-Sandbox shortened its deadline, which passed; a sweep must honour the moved deadline'
        }
    }

    Context 'events and hooks' {
        BeforeAll {
            # The expiry of a sandbox whose -OnKill throws, in its own process: the warning goes to that host.
            $script:HookWork = New-Item -ItemType Directory -Force -Path (Join-Path $TestDrive 'hooks')
            $script:HookChildName = New-TestName 'throwexp'
            $script:HookChildResult = Join-Path $script:HookWork 'result.json'
            $script:HookChild = Start-ChildPwsh -WorkFolder $script:HookWork -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
`$global:expired = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
`$null = Register-EngineEvent -SourceIdentifier Sandbox.Expired -Action { [void]`$global:expired.Add(`$Event.SourceArgs[0].Name) }
`$sandbox = New-Sandbox -Name '$($script:HookChildName)' -Timeout 3 -OnKill { throw 'boom-on-expiry' }
`$end = [datetime]::UtcNow.AddSeconds(15)
while (`$global:expired -notcontains `$sandbox.Name -and [datetime]::UtcNow -lt `$end) { `$null = Wait-Event -Timeout 1 }
`$null = Wait-Event -Timeout 1     # idle a little longer: the queued -OnKill action has run
[ordered]@{ Expired = `$global:expired -contains `$sandbox.Name; StillHere = `$true } | ConvertTo-Json | Set-Content -LiteralPath '$($script:HookChildResult)'
"@
            $script:TestThread = [Threading.Thread]::CurrentThread.ManagedThreadId
            $script:TestRunspace = [runspace]::DefaultRunspace.InstanceId
            $global:SandboxTestHook = [hashtable]::Synchronized(@{})
            function New-RecordingHook {
                # Records where it ran: thread, runspace, the sandbox it got, and whether this session's variables are there.
                param([string] $Key)
                [scriptblock]::Create(@"
`$global:SandboxTestHook['$Key'] = [pscustomobject]@{
    Thread = [Threading.Thread]::CurrentThread.ManagedThreadId
    Runspace = [runspace]::DefaultRunspace.InstanceId
    Name = `$_.Name
    Args0 = `$args[0].Name
    HostName = `$Host.Name
    SessionMarker = `$global:SandboxTestMarker
}
"@)
            }
            $global:SandboxTestMarker = 'this-session'
        }

        AfterAll {
            foreach ($id in 'Sandbox.Stopped', 'Sandbox.Expired') {
                Unregister-Event -SourceIdentifier $id -ErrorAction SilentlyContinue
                Remove-Event -SourceIdentifier $id -ErrorAction SilentlyContinue
            }
            Get-Event -ErrorAction SilentlyContinue | Where-Object SourceIdentifier -Like 'Sandbox.*' | Remove-Event
            if ($script:HookChild -and -not $script:HookChild.HasExited) { $script:HookChild.Kill($true) }
        }

        It 'raises Sandbox.Stopped with the sandbox when Stop-Sandbox removes it' {
            $sandbox = New-Sandbox -Name (New-TestName 'evstop') -Timeout 60
            $events = Register-EventRecorder -SourceIdentifier Sandbox.Stopped
            try {
                $sandbox | Stop-Sandbox
                $got = Wait-RecordedEvent -List $events -Id $sandbox.Id -TimeoutSec 5
                $got | Should -Not -BeNullOrEmpty -Because 'Stop-Sandbox must raise Sandbox.Stopped'
                $got.Sandbox | Should -BeOfType ([Sandbox.Sandbox])
                $got.Sandbox.Name | Should -Be $sandbox.Name
                $got.Thread | Should -Be $script:TestThread
            }
            finally {
                Unregister-Event -SourceIdentifier Sandbox.Stopped -ErrorAction SilentlyContinue
                Remove-Event -SourceIdentifier Sandbox.Stopped -ErrorAction SilentlyContinue
            }
        }

        It 'raises Sandbox.Expired with the sandbox at its deadline while the session waits, and runs -OnKill on this thread' {
            $events = Register-EventRecorder -SourceIdentifier Sandbox.Expired
            try {
                $sandbox = New-Sandbox -Name (New-TestName 'evexp') -Timeout 3 -OnKill (New-RecordingHook 'expiry')
                $got = Wait-RecordedEvent -List $events -Id $sandbox.Id -TimeoutSec 10
                $got | Should -Not -BeNullOrEmpty -Because 'the cleanup engine must raise Sandbox.Expired while this session is idle'
                $got.Sandbox.Name | Should -Be $sandbox.Name
                $got.Thread | Should -Be $script:TestThread
                Test-ContainerExists $sandbox.Id | Should -BeFalse

                Wait-Idle { $global:SandboxTestHook.ContainsKey('expiry') } -TimeoutSec 5 |
                    Should -BeTrue -Because '-OnKill must run when the sandbox expires'
                $hook = $global:SandboxTestHook['expiry']
                $hook.Name | Should -Be $sandbox.Name
                $hook.Args0 | Should -Be $sandbox.Name
                $hook.Thread | Should -Be $script:TestThread -Because 'an expiry hook runs on the session''s own pipeline thread, not the cleanup thread'
                $hook.Runspace | Should -Be $script:TestRunspace
                $hook.SessionMarker | Should -Be 'this-session'
                $hook.HostName | Should -Be $Host.Name
            }
            finally {
                Unregister-Event -SourceIdentifier Sandbox.Expired -ErrorAction SilentlyContinue
                Remove-Event -SourceIdentifier Sandbox.Expired -ErrorAction SilentlyContinue
            }
        }

        It 'runs -OnKill on the caller''s thread for Stop-Sandbox here' {
            $sandbox = New-Sandbox -Name (New-TestName 'killhere') -Timeout 60 -OnKill (New-RecordingHook 'here')
            $sandbox | Stop-Sandbox
            $hook = $global:SandboxTestHook['here']
            $hook | Should -Not -BeNullOrEmpty -Because 'Stop-Sandbox runs -OnKill before it returns'
            $hook.Name | Should -Be $sandbox.Name
            $hook.Thread | Should -Be $script:TestThread
            $hook.Runspace | Should -Be $script:TestRunspace
            $hook.SessionMarker | Should -Be 'this-session'
        }

        It 'runs -OnKill on the owning session''s thread, not the other runspace''s, when another runspace stops the sandbox' {
            $sandbox = New-Sandbox -Name (New-TestName 'killthere') -Timeout 60 -OnKill (New-RecordingHook 'there')
            $other = Start-ModuleShell -Arguments @(, $sandbox) -Script {
                param($sandbox)
                $sandbox | Stop-Sandbox
                [Threading.Thread]::CurrentThread.ManagedThreadId
            }
            $otherThread = $other.Shell.EndInvoke($other.Handle)
            $other.Shell.Streams.Error | Should -BeNullOrEmpty
            $other.Shell.Dispose()
            Test-ContainerExists $sandbox.Id | Should -BeFalse
            Wait-Idle { $global:SandboxTestHook.ContainsKey('there') } -TimeoutSec 3 |
                Should -BeTrue -Because "the hook is queued to the session that registered it (events left in this session's queue: $(@(Get-Event | ForEach-Object SourceIdentifier) -join ', '))"
            $hook = $global:SandboxTestHook['there']
            $hook.Thread | Should -Not -Be $otherThread[0]
            $hook.Thread | Should -Be $script:TestThread
            $hook.Runspace | Should -Be $script:TestRunspace
        }

        It 'turns an -OnKill that throws into a warning on Stop-Sandbox, and still removes the sandbox' {
            $sandbox = New-Sandbox -Name (New-TestName 'throwstop') -Timeout 60 -OnKill { throw 'boom-on-stop' }
            $sandbox | Stop-Sandbox -WarningVariable warnings -WarningAction SilentlyContinue -ErrorAction Stop
            @($warnings) -join "`n" | Should -BeLike "*$($sandbox.Name)*boom-on-stop*"
            Test-ContainerExists $sandbox.Id | Should -BeFalse
        }

        It 'turns an -OnStart that throws into a warning; the sandbox is still made and usable' {
            $name = New-TestName 'throwstart'
            $sandbox = New-Sandbox -Name $name -Timeout 60 -OnStart { throw 'boom-on-start' } -WarningVariable warnings -WarningAction SilentlyContinue
            $sandbox | Should -Not -BeNullOrEmpty
            $sandbox.Name | Should -Be $name
            @($warnings) -join "`n" | Should -BeLike "*$name*boom-on-start*"
            Invoke-SandboxCommand -Sandbox $sandbox 'echo usable' | Should -Be 'usable'
            $sandbox | Stop-Sandbox
        }

        It 'turns an -OnKill that throws at expiry into a warning: the process goes on and the sandbox is removed' {
            $script:HookChild.WaitForExit(40000) | Should -BeTrue
            $output = @(Get-ChildOutput $script:HookWork) -join "`n"
            Test-Path -LiteralPath $script:HookChildResult | Should -BeTrue -Because "the child must live on after the hook threw: $output"
            $r = Get-Content -Raw -LiteralPath $script:HookChildResult | ConvertFrom-Json
            $r.Expired | Should -BeTrue
            $r.StillHere | Should -BeTrue
            $output | Should -BeLike "*WARNING:*$($script:HookChildName)*boom-on-expiry*"
            Test-ContainerExists $script:HookChildName | Should -BeFalse
        }
    }

    Context 'stopping work with Ctrl+C' {
        BeforeAll {
            $script:Work = New-Item -ItemType Directory -Force -Path (Join-Path $TestDrive 'stop')
            $script:Busy = New-Sandbox -Name (New-TestName 'busy') -Timeout 180
        }

        It 'stops Invoke-SandboxCommand ''sleep 60'' within 1 s and kills the sleep inside the sandbox' {
            $run = Start-ModuleShell -Arguments @(, $script:Busy) -Script { param($sandbox) Invoke-SandboxCommand -Sandbox $sandbox 'sleep 60' }
            try {
                Wait-Until { Test-SleepRunning $script:Busy 60 } -TimeoutSec 10 -IntervalMs 200 | Should -BeTrue -Because 'the command must be running first'
                $ms = Measure-Stop $run.Shell
                Write-Host "  FIGURE Ctrl+C on Invoke-SandboxCommand 'sleep 60': Stop() returned in $ms ms"
                $ms | Should -BeLessThan 1000
                $run.Shell.InvocationStateInfo.State | Should -Be 'Stopped'
                Wait-Until { -not (Test-SleepRunning $script:Busy 60) } -TimeoutSec 1 -IntervalMs 100 |
                    Should -BeTrue -Because 'Ctrl+C must kill the process inside the sandbox'
            }
            finally { $run.Shell.Dispose() }
        }

        It 'stops Copy-SandboxItem of a 300 MB file into the sandbox within 1 s' {
            $file = Join-Path $script:Work 'big-in.bin'
            $stream = [IO.File]::Create($file)
            try { $stream.SetLength(300MB) } finally { $stream.Dispose() }
            $run = Start-ModuleShell -Arguments $script:Busy, $file -Script {
                param($sandbox, $file)
                Copy-SandboxItem -LiteralPath $file -Destination /tmp/big-in.bin -Sandbox $sandbox
            }
            try {
                Wait-Until { $run.Shell.Streams.Progress.Count -gt 1 -or $run.Handle.IsCompleted } -TimeoutSec 15 -IntervalMs 20 | Should -BeTrue
                $run.Shell.InvocationStateInfo.State | Should -Be 'Running' -Because 'the copy must still be running when it is stopped'
                $ms = Measure-Stop $run.Shell
                $last = $run.Shell.Streams.Progress | Select-Object -Last 1
                Write-Host "  FIGURE Ctrl+C on Copy-SandboxItem (300 MB in): Stop() returned in $ms ms (at '$($last.StatusDescription)')"
                $ms | Should -BeLessThan 1000
                $run.Shell.InvocationStateInfo.State | Should -Be 'Stopped'
            }
            finally { $run.Shell.Dispose(); Remove-Item -LiteralPath $file -ErrorAction SilentlyContinue }
            Invoke-SandboxCommand -Sandbox $script:Busy 'echo still-usable' | Should -Be 'still-usable'
        }

        It 'stops Copy-SandboxItem -FromSandbox of a 500 MB file within 1 s' {
            Invoke-SandboxCommand -Sandbox $script:Busy 'dd if=/dev/zero of=/tmp/big-out.bin bs=1048576 count=500 2>/dev/null; echo made' | Should -Be 'made'
            $target = Join-Path $script:Work 'big-out.bin'
            $run = Start-ModuleShell -Arguments $script:Busy, $target -Script {
                param($sandbox, $target)
                Copy-SandboxItem -LiteralPath /tmp/big-out.bin -Destination $target -FromSandbox -Sandbox $sandbox
            }
            try {
                Wait-Until { $run.Shell.Streams.Progress.Count -gt 1 -or $run.Handle.IsCompleted } -TimeoutSec 15 -IntervalMs 20 | Should -BeTrue
                $run.Shell.InvocationStateInfo.State | Should -Be 'Running' -Because 'the copy must still be running when it is stopped'
                $ms = Measure-Stop $run.Shell
                $last = $run.Shell.Streams.Progress | Select-Object -Last 1
                Write-Host "  FIGURE Ctrl+C on Copy-SandboxItem -FromSandbox (500 MB out): Stop() returned in $ms ms (at '$($last.StatusDescription)')"
                $ms | Should -BeLessThan 1000
                $run.Shell.InvocationStateInfo.State | Should -Be 'Stopped'
            }
            finally { $run.Shell.Dispose(); Remove-Item -LiteralPath $target -ErrorAction SilentlyContinue }
            Invoke-SandboxCommand -Sandbox $script:Busy 'rm -f /tmp/big-out.bin /tmp/big-in.bin; echo still-usable' | Should -Be 'still-usable'
        }

        It 'stops New-Sandbox during the pull of a 200 MB image within 1 s, and makes no container' {
            $registry = '127.0.0.1:5000'
            $image = "$registry/sandbox-test/big:latest"
            $tags = try { Invoke-RestMethod -Uri "http://$registry/v2/sandbox-test/big/tags/list" -TimeoutSec 2 } catch { $null }
            if (-not $tags -or 'latest' -notin @($tags.tags)) {
                try { $null = Invoke-RestMethod -Uri "http://$registry/v2/" -TimeoutSec 2 }
                catch { Set-ItResult -Skipped -Because 'the test registry on 127.0.0.1:5000 (tests/setup/Start-TestRegistry.sh) is not running'; return }
                # A FROM-less image with one 200 MB layer of random bytes (random, so that compression cannot shrink it).
                $layer = Join-Path $script:Work 'layer'
                $null = New-Item -ItemType Directory -Force -Path $layer
                bash -c "head -c 200M /dev/urandom > '$layer/big.bin' && tar -C '$layer' -cf - big.bin | docker import - $image >/dev/null && docker push -q $image >/dev/null"
                $LASTEXITCODE | Should -Be 0
                Remove-Item -LiteralPath $layer -Recurse -Force
            }
            docker rmi $image *> $null
            $name = New-TestName 'pullstop'
            $run = Start-ModuleShell -Arguments $image, $name -Script {
                param($image, $name)
                New-Sandbox -Image $image -Name $name -Timeout 60
            }
            try {
                Wait-Until { @($run.Shell.Streams.Progress | Where-Object Activity -Like 'Pulling image*').Count -gt 0 -or $run.Handle.IsCompleted } -TimeoutSec 15 -IntervalMs 10 | Should -BeTrue
                $run.Shell.InvocationStateInfo.State | Should -Be 'Running' -Because 'the pull must still be running when it is stopped'
                $ms = Measure-Stop $run.Shell
                $last = $run.Shell.Streams.Progress | Select-Object -Last 1
                Write-Host "  FIGURE Ctrl+C on New-Sandbox pulling a 200 MB image: Stop() returned in $ms ms (at '$($last.StatusDescription)')"
                $ms | Should -BeLessThan 1000
                $run.Shell.InvocationStateInfo.State | Should -Be 'Stopped'
                # The engine's pull stops too (a whole pull of it takes about 3 s here): no image appears afterwards.
                Start-Sleep -Seconds 4
                docker image inspect $image *> $null
                $LASTEXITCODE | Should -Not -Be 0 -Because 'Ctrl+C must stop the pull on the engine as well'
                Test-ContainerExists $name | Should -BeFalse
            }
            finally {
                $run.Shell.Dispose()
                docker rm -f $name *> $null
                docker rmi $image *> $null
            }
        }

        It 'passes all 200 MB of a command''s output down the pipeline with -PassThru, caps the result and keeps memory bounded' {
            $work = New-Item -ItemType Directory -Force -Path (Join-Path $script:Work 'big-output')
            $result = Join-Path $work 'result.json'
            $name = New-TestName 'bigout'
            # 200 MiB in 204,800 lines of 1024 characters, counted as they come, never collected.
            $child = Start-ChildPwsh -WorkFolder $work -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
`$sandbox = New-Sandbox -Name '$name' -Timeout 120
`$me = [Diagnostics.Process]::GetCurrentProcess()
`$baseline = `$me.WorkingSet64
`$script:lines = 0; `$script:bad = 0; `$script:result = `$null; `$script:maxSet = 0
`$clock = [Diagnostics.Stopwatch]::StartNew()
Invoke-SandboxCommand -Sandbox `$sandbox "head -c 209715200 /dev/zero | tr '\0' x | fold -w 1024" -PassThru -WarningVariable warnings -WarningAction SilentlyContinue |
    . { process {
        if (`$_ -is [string]) {
            `$script:lines++
            if (`$_.Length -ne 1024) { `$script:bad++ }
            if ((`$script:lines % 10000) -eq 0) { `$me.Refresh(); if (`$me.WorkingSet64 -gt `$script:maxSet) { `$script:maxSet = `$me.WorkingSet64 } }
        }
        else { `$script:result = `$_ }
    } }
`$clock.Stop()
`$me.Refresh()
[ordered]@{
    Lines = `$script:lines; BadLines = `$script:bad; Seconds = `$clock.Elapsed.TotalSeconds
    Truncated = `$script:result.Truncated; StdOutLength = `$script:result.StdOut.Length; ExitCode = `$script:result.ExitCode
    Warnings = @(`$warnings | ForEach-Object { "`$_" })
    Baseline = `$baseline; MaxSampled = `$script:maxSet; Peak = `$me.PeakWorkingSet64
} | ConvertTo-Json | Set-Content -LiteralPath '$result'
`$sandbox | Stop-Sandbox
"@
            try {
                $child.WaitForExit(120000) | Should -BeTrue
                Test-Path -LiteralPath $result | Should -BeTrue -Because "the child should have reported: $(Get-ChildOutput $work)"
                $r = Get-Content -Raw -LiteralPath $result | ConvertFrom-Json
                Write-Host ('  FIGURE 200 MB output with -PassThru: {0} lines in {1:0.0} s; peak working set {2:0} MB (baseline {3:0} MB, largest sample {4:0} MB); result StdOut {5} chars, Truncated {6}' -f
                    $r.Lines, $r.Seconds, ($r.Peak / 1MB), ($r.Baseline / 1MB), ($r.MaxSampled / 1MB), $r.StdOutLength, $r.Truncated)
                $r.Lines | Should -Be 204800 -Because 'every line must reach the pipeline'
                $r.BadLines | Should -Be 0
                $r.ExitCode | Should -Be 0
                $r.Truncated | Should -BeTrue
                $r.StdOutLength | Should -BeLessOrEqual (8 * 1024 * 1024)
                $r.StdOutLength | Should -BeGreaterThan 0
                @($r.Warnings) -join "`n" | Should -BeLike '*truncated*'
                $r.Peak | Should -BeLessThan 400MB -Because 'output must not pile up in memory'
            }
            finally {
                if (-not $child.HasExited) { $child.Kill($true) }
                docker rm -f $name *> $null
            }
        }
    }
}
