#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# The deadline inside the sandbox against the sandbox's own code (issue 10, item 2). A child pwsh makes sandboxes whose
# code freezes every process it can see (kill -STOP -1), kills every process it can see (kill -9 -1, in a loop) or holds
# the whole pids limit, as root with the default capabilities, with -User and with -ReadOnly; then the child is killed,
# and no process with the module runs here either (it is removed from this process). Each sandbox must end BY ITS OWN
# DEADLINE, not before it and within 3 s after it. How it died comes from the engine's events, not from the module:
# exit code 0 is PID 1 ending by itself at the deadline; anything else is a removal (or an init killed some other way).
# The deadline is the sandbox's ExpiresAt; the lateness of each case is printed with Write-Host.

BeforeDiscovery {
    $script:Cases = @(& "$PSScriptRoot/Deadline.Cases.ps1")
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'guard'
    $script:Cases = @(& "$PSScriptRoot/Deadline.Cases.ps1")
    $script:Polyglot = if ($env:SANDBOX_POLYGLOT_IMAGE) { $env:SANDBOX_POLYGLOT_IMAGE } else { 'sandbox-local/polyglot:bookworm' }
    docker image inspect $script:Polyglot *> $null
    if ($LASTEXITCODE -ne 0) { throw "The polyglot image '$script:Polyglot' is missing; build it with tests/setup/New-PolyglotImage.sh." }

    # Each attack runs in the background of one exec, with its output nowhere, and keeps on until the sandbox ends.
    # freeze: a victim to show that it works, then SIGSTOP to everything, again and again (new processes too).
    # kill: a victim, then SIGKILL to everything, in a tight loop. pids: sleeps until fork fails; the shell dies of that,
    # and its EXIT trap execs (no fork) the same attack again, so the limit stays held and every slot that frees is
    # fought for.
    $script:Attacks = @{
        freeze = 'sleep 997 & while :; do kill -STOP -1; sleep 0.2; done'
        kill   = 'sleep 998 & while :; do kill -9 -1; done'
        pids   = 'export A=''trap "exec sh -c \"\$A\"" EXIT; while :; do sleep 999 & done''; exec sh -c "$A"'
    }

    function Get-AttackHold {
        # Whether the attack has taken hold, seen from the host (docker top, which needs no process inside): the frozen
        # victim, the killing loop with its victim gone, or as many processes as the pids limit allows.
        param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [string] $Attack)
        $rows = @(docker top $Name -o pid,stat,args 2>$null | Select-Object -Skip 1)
        switch ($Attack) {
            'freeze' { @($rows | Where-Object { $_ -match '^\s*\d+\s+T\S*\s+.*sleep 997' }).Count -gt 0 }
            'kill' { @($rows | Where-Object { $_ -match 'kill -9 -1' }).Count -gt 0 -and @($rows | Where-Object { $_ -match '^\s*\d+\s+\S+\s+sleep 998' }).Count -eq 0 }
            'pids' { $rows.Count -ge [int](docker inspect --format '{{.HostConfig.PidsLimit}}' $Name 2>$null) }
        }
    }

    # The engine's record of how each container of this file died: exit code and time, from docker events.
    $script:EventsFile = Join-Path ([IO.Path]::GetTempPath()) ('{0}-events.txt' -f (Get-TestPrefix))
    $script:EventsProcess = Start-Process -FilePath docker -PassThru -RedirectStandardOutput $script:EventsFile `
        -RedirectStandardError "$script:EventsFile.err" -ArgumentList @('events', '--filter', 'type=container', '--filter', 'event=die',
        '--filter', 'event=destroy', '--filter', 'label=io.sandbox.managed=true',
        '--format', '{{.Action}}|{{.Actor.Attributes.name}}|{{.Actor.Attributes.exitCode}}|{{.TimeNano}}')

    function Get-EngineEvent {
        # The die and destroy events of a container: Action, ExitCode, Time (UTC, from the engine's nanoseconds).
        param([Parameter(Mandatory)] [string] $Name)
        Get-Content -LiteralPath $script:EventsFile -ErrorAction SilentlyContinue | ForEach-Object {
            $action, $n, $code, $nano = $_ -split '\|', 4
            if ($n -eq $Name) {
                [pscustomobject]@{ Action = $action; ExitCode = $code; Time = [DateTimeOffset]::FromUnixTimeMilliseconds([long]([decimal]$nano / 1000000)).UtcDateTime }
            }
        }
    }
}

AfterAll {
    if ($script:EventsProcess -and -not $script:EventsProcess.HasExited) { $script:EventsProcess.Kill() }
    if ($script:EventsFile) { Remove-Item -LiteralPath $script:EventsFile, "$script:EventsFile.err" -ErrorAction SilentlyContinue }
    if (-not (Get-Module Sandbox) -and $env:SANDBOX_MODULE_PATH) { Import-Module $env:SANDBOX_MODULE_PATH -Global -Force }
    Complete-SandboxTest
    $volumes = @(docker volume ls -q --filter "name=^$(Get-TestPrefix)" 2>$null | Where-Object { $_ })
    if ($volumes.Count) { docker volume rm -f @volumes *> $null }
}

Describe 'The deadline inside the sandbox holds against the code it runs, with no PowerShell alive' {
    BeforeAll {
        # Nothing of the module may run here: its cleanup engine would sweep these sandboxes once they expire.
        Remove-Module Sandbox -Force

        $work = New-Item -ItemType Directory -Force -Path (Join-Path $TestDrive 'owner')
        $script:Made = @{}
        foreach ($case in $Cases) {
            $script:Made[$case.Key] = [pscustomobject]@{
                Key    = $case.Key
                Name   = New-TestName $case.Key
                Attack = $case.Attack
                Image  = if ($case.Image -eq 'busybox') { Get-TestImage } else { $script:Polyglot }
                User   = if ($case.Variant -eq '-User 1000') { '1000' } else { $null }
                ReadOnly = $case.Variant -eq '-ReadOnly'
                Script = $script:Attacks[$case.Attack]
            }
        }
        $specFile = Join-Path $work 'spec.json'
        @($script:Made.Values) | ConvertTo-Json | Set-Content -LiteralPath $specFile
        $ready = Join-Path $work 'ready.txt'
        $launchFile = Join-Path $work 'launch.sh'
        Set-Content -LiteralPath $launchFile -NoNewline -Value (
            'P=$PPID; S=$$; sh -c ''while kill -0 ''$S'' 2>/dev/null || { [ ''$P'' -gt 1 ] && kill -0 ''$P'' 2>/dev/null; }; do sleep 0.05; done; exec sh -c "$ATTACK"'' >/dev/null 2>&1 </dev/null &')
        # Every deadline falls on the same moment, $budget s after the child starts making the sandboxes: after the kill.
        $budget = 16
        $script:Child = Start-ChildPwsh -WorkFolder $work -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
`$module = (Get-Module Sandbox).Path
`$spec = Get-Content -Raw -LiteralPath '$specFile' | ConvertFrom-Json
`$launch = Get-Content -Raw -LiteralPath '$launchFile'
`$clock = [Diagnostics.Stopwatch]::StartNew()
`$base = [datetime]::UtcNow.AddSeconds($budget)
`$made = @(`$spec | ForEach-Object -ThrottleLimit 6 -Parallel {
    Import-Module `$using:module
    `$s = `$_
    `$options = @{ Name = `$s.Name; Image = `$s.Image; Timeout = [int][math]::Ceiling((`$using:base - [datetime]::UtcNow).TotalSeconds) }
    if (`$s.User) { `$options.User = `$s.User }
    if (`$s.ReadOnly) { `$options.ReadOnly = `$true }
    `$sandbox = New-Sandbox @options -ErrorAction Stop
    # The attack (in the environment, then in the command line of its shell) waits until the exec that starts it has ended (its shell, and the module's
    # wrapper around it when there is one), or it would freeze or starve that exec too.
    Invoke-SandboxCommand -Sandbox `$sandbox -Environment @{ ATTACK = `$s.Script } -Command `$using:launch | Out-Null
    '{0}|{1:o}' -f `$sandbox.Name, `$sandbox.ExpiresAt.ToUniversalTime()
})
Set-Content -LiteralPath '$ready.tmp' -Value (@(`$PID, `$made.Count, `$clock.Elapsed.TotalSeconds) + `$made)
Move-Item -LiteralPath '$ready.tmp' -Destination '$ready'
Start-Sleep -Seconds 120
"@
        try {
            $script:Ready = Wait-Until { Test-Path -LiteralPath $ready } -TimeoutSec 60 -IntervalMs 50
            $script:ChildOutput = Get-ChildOutput $work
            if ($script:Ready) {
                $script:RealPid, $script:MadeCount, $seconds, $expiries = Get-Content -LiteralPath $ready
                Write-Host ('  the child made {0} sandboxes and started their attacks in {1:0.0} s (budget {2} s)' -f $script:MadeCount, [double]$seconds, $budget)
                foreach ($m in $script:Made.Values) {
                    # The deadline is the sandbox's own ExpiresAt, as New-Sandbox gave it (this machine's clock is the engine's).
                    $expires = @($expiries | Where-Object { $_ -like "$($m.Name)|*" }) | ForEach-Object { ($_ -split '\|', 2)[1] }
                    $m | Add-Member -NotePropertyName Deadline -NotePropertyValue $(if ($expires) { [datetimeoffset]::Parse($expires, [cultureinfo]::InvariantCulture).UtcDateTime })
                    $m | Add-Member -NotePropertyName Held -NotePropertyValue $false
                    # For the figures only: the deadline PID 1 was given (epoch seconds and fraction, after the entrypoint).
                    $given = @(docker inspect --format '{{range .Config.Cmd}}{{.}} {{end}}' $m.Name 2>$null) -split ' ' | Where-Object { $_ }
                    $m | Add-Member -NotePropertyName Given -NotePropertyValue $(if ($given.Count -eq 2) { [DateTimeOffset]::FromUnixTimeMilliseconds([long](([double]$given[0] + [double]$given[1]) * 1000)).UtcDateTime })
                }
                # Each attack must hold before the owner goes, so that nothing but the deadline inside can end them.
                $null = Wait-Until {
                    foreach ($m in $script:Made.Values) { if (-not $m.Held) { $m.Held = Get-AttackHold -Name $m.Name -Attack $m.Attack } }
                    @($script:Made.Values | Where-Object { -not $_.Held }).Count -eq 0
                } -TimeoutSec 8 -IntervalMs 100
                Stop-Process -Id $script:RealPid -Force          # SIGKILL: no cleanup code runs in the owner
                $script:KilledAt = [datetime]::UtcNow
                $null = Wait-Until { -not (Get-Process -Id $script:RealPid -ErrorAction SilentlyContinue) } -TimeoutSec 5
            }
        }
        finally {
            if ($script:RealPid) { Stop-Process -Id $script:RealPid -Force -ErrorAction SilentlyContinue }
            if (-not $script:Child.HasExited) { $script:Child.Kill($true) }
        }

        if ($script:Ready) {
            $last = @($script:Made.Values | Where-Object Deadline | ForEach-Object Deadline | Sort-Object -Descending) + [datetime]::UtcNow | Select-Object -First 1
            $null = Wait-Until { @($script:Made.Values | Where-Object { -not (Get-EngineEvent $_.Name | Where-Object Action -EQ 'destroy') }).Count -eq 0 } `
                -Deadline $last.AddSeconds(5) -IntervalMs 250
            foreach ($m in $script:Made.Values) {
                $events = @(Get-EngineEvent $m.Name)
                $die = $events | Where-Object Action -EQ 'die' | Select-Object -First 1
                $destroy = $events | Where-Object Action -EQ 'destroy' | Select-Object -First 1
                $m | Add-Member -NotePropertyName ExitCode -NotePropertyValue $(if ($die) { $die.ExitCode })
                $m | Add-Member -NotePropertyName DieLate -NotePropertyValue $(if ($die -and $m.Deadline) { [math]::Round(($die.Time - $m.Deadline).TotalSeconds, 2) })
                $m | Add-Member -NotePropertyName GoneLate -NotePropertyValue $(if ($destroy -and $m.Deadline) { [math]::Round(($destroy.Time - $m.Deadline).TotalSeconds, 2) })
                $givenLate = if ($die -and $m.Given) { [math]::Round(($die.Time - $m.Given).TotalSeconds, 2) }
                Write-Host ('  {0,-16} held {1,-5} exit {2,-4} stopped {3,6} s, gone {4,6} s after its deadline (stopped {5} s after the deadline PID 1 was given; {6})' -f
                    $m.Key, $m.Held, $m.ExitCode, $m.DieLate, $m.GoneLate, $givenLate, $m.Name)
            }
        }
    }

    It 'made every sandbox, started every attack and killed the owner before any deadline' {
        $script:Ready | Should -BeTrue -Because "the child pwsh should have made the sandboxes: $script:ChildOutput"
        [int]$script:MadeCount | Should -Be $Cases.Count
        $early = @($script:Made.Values | Where-Object { -not $_.Deadline -or $_.Deadline -le $script:KilledAt } | ForEach-Object Name)
        $early | Should -BeNullOrEmpty -Because "every sandbox must have been alive with its deadline after the owner was dead (killed at $($script:KilledAt.ToString('HH:mm:ss.fff')))"
    }

    It '<Key>: <Attack> as <Variant> in <Image>: the attack holds, and the sandbox ends by its own deadline, within 3 s and not before' -ForEach $Cases {
        $m = $script:Made[$Key]
        $m.Held | Should -BeTrue -Because "the attack '$($m.Script)' should have taken hold before the owner was killed"
        $m.GoneLate | Should -Not -BeNullOrEmpty -Because 'the sandbox must be gone (the engine destroyed it)'
        $m.ExitCode | Should -Be '0' -Because 'PID 1 must end by itself at the deadline (any other exit is a removal from outside, or a guard the attack ended)'
        $m.DieLate | Should -BeGreaterOrEqual 0 -Because 'a sandbox must never end before its deadline'
        $m.GoneLate | Should -BeLessOrEqual 3 -Because 'a sandbox must be gone within 3 s of its deadline'
    }
}
