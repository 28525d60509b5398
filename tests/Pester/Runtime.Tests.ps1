#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# -Runtime (issue 13, item 7): sandboxes under gVisor (runsc) on the test engine, which build.sh registers in its
# daemon.json. Against the engine of DOCKER_HOST (else the local one): exec, copy both ways (also /tmp, which gVisor
# would keep in its own memory), a published port reached from here, the deadline guard as PID 1 ending the sandbox on
# time with no PowerShell alive (also against code that freezes or kills every process it sees), pools, completion,
# and the errors: a runtime the engine lacks (listing the ones it has, also over ssh://) and -Runtime on a cluster.
# Without runsc on the engine the gVisor tests are skipped, with the reason; under CI (CI=true) they fail instead.

BeforeDiscovery {
    $runtimes = docker info --format '{{json .Runtimes}}' 2>$null
    $script:HasRunsc = "$runtimes" -match '"runsc"'
    $script:SkipGvisor = -not $script:HasRunsc -and $env:CI -ne 'true'
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'runtime'
    $script:HasRunsc = "$(docker info --format '{{json .Runtimes}}' 2>$null)" -match '"runsc"'

    function Get-TmpVolumeFile {
        # A file in the sandbox's /tmp volume, read on this machine (the engine's), where no process of the sandbox runs.
        param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [string] $File)
        $source = docker inspect --format '{{range .Mounts}}{{if eq .Destination "/tmp"}}{{.Source}}{{end}}{{end}}' $Name 2>$null
        if ($source) { Get-Content -LiteralPath (Join-Path $source $File) -Raw -ErrorAction SilentlyContinue }
    }
}

AfterAll {
    if (-not (Get-Module Sandbox) -and $env:SANDBOX_MODULE_PATH) { Import-Module $env:SANDBOX_MODULE_PATH -Global -Force }
    Complete-SandboxTest
    $volumes = @(docker volume ls -q --filter "name=^$(Get-TestPrefix)" 2>$null | Where-Object { $_ })
    if ($volumes.Count) { docker volume rm -f @volumes *> $null }
}

Describe 'The test engine has gVisor' {
    It 'lists runsc among its runtimes (build.sh registers it)' {
        if (-not $script:HasRunsc -and $env:CI -ne 'true') {
            Set-ItResult -Skipped -Because "the engine ($(if ($env:DOCKER_HOST) { $env:DOCKER_HOST } else { 'local' })) has no runtime 'runsc'; build.sh registers it (apt-get install runsc; see DOCKERD_CONFIG there)"
            return
        }
        $script:HasRunsc | Should -BeTrue -Because 'under CI build.sh registers runsc in the test engine'
    }
}

Describe '-Runtime runsc: a sandbox under gVisor' -Skip:$SkipGvisor {
    BeforeAll {
        $script:Gvisor = New-Sandbox -Name (New-TestName 'gv') -Runtime runsc -Port '8080' -Timeout 120
    }

    It 'runs under gVisor, and says so in Runtime, for this process and for a list (another process sees the label)' {
        (Invoke-SandboxCommand -Sandbox $script:Gvisor -Command 'dmesg | head -n 1') | Should -Match 'Starting gVisor'
        $script:Gvisor.Runtime | Should -Be 'runsc'
        (Get-ContainerInspect $script:Gvisor.Id).HostConfig.Runtime | Should -Be 'runsc'
        (Get-Sandbox -Name $script:Gvisor.Name).Runtime | Should -Be 'runsc'
    }

    It 'a sandbox without -Runtime shows runc, read from the engine and from a list' {
        $plain = New-Sandbox -Name (New-TestName 'runc')
        $plain.Runtime | Should -Be 'runc'
        (Get-Sandbox -Name $plain.Name).Runtime | Should -Be 'runc'
        (Invoke-SandboxCommand -Sandbox $plain -Command 'dmesg 2>/dev/null | head -n 1; true') | Should -Not -Match 'gVisor'
    }

    It 'runs commands: pipeline input, standard error and the exit code' {
        $result = 'one', 'two' | Invoke-SandboxCommand -Sandbox $script:Gvisor -Command 'cat; echo err >&2; exit 3' -PassThru -ErrorAction SilentlyContinue
        $result.StdOut.Trim() -split '\r?\n' | Should -Be @('one', 'two')
        $result.StdErr.Trim() | Should -Be 'err'
        $result.ExitCode | Should -Be 3
    }

    It 'copies files in and out, in /workspace and in /tmp (a volume, which gVisor cannot keep to itself)' {
        $local = New-Item -ItemType Directory -Force -Path (Join-Path $TestDrive 'copy')
        $bytes = [byte[]](0..255) * 64
        [IO.File]::WriteAllBytes((Join-Path $local 'in.bin'), $bytes)
        foreach ($folder in '/workspace', '/tmp') {
            Copy-SandboxItem -Sandbox $script:Gvisor -Path (Join-Path $local 'in.bin') -Destination "$folder/in.bin"
            Invoke-SandboxCommand -Sandbox $script:Gvisor -Command "cp $folder/in.bin $folder/out.bin && wc -c < $folder/out.bin" | Should -Be '16384'
            $back = Join-Path $local ("out{0}.bin" -f $folder.Replace('/', '-'))
            Copy-SandboxItem -Sandbox $script:Gvisor -FromSandbox -Path "$folder/out.bin" -Destination $back
            [IO.File]::ReadAllBytes($back) | Should -Be $bytes -Because "the file went through $folder and back"
        }
    }

    It 'publishes a port that answers from this machine' {
        $port = $script:Gvisor.Ports[0]
        $port.ContainerPort | Should -Be 8080
        Invoke-SandboxCommand -Sandbox $script:Gvisor -Command 'mkdir -p /tmp/www && echo gvisor-web > /tmp/www/index.html && httpd -p 8080 -h /tmp/www'
        $response = Invoke-WebRequestWithRetry -Uri "$($port.Url)/index.html" -TimeoutSec 10
        (ConvertTo-Text $response.Content).Trim() | Should -Be 'gvisor-web'
    }

    It 'the default -PidsLimit (100) lets 100 processes run inside: the engine''s limit counts gVisor''s own threads too, and the module makes room for them' {
        # runsc 20221219 takes about 8 host pids for each process inside and stops the whole sandbox when the engine's
        # limit refuses it one; with the engine's limit at 100 a sandbox died at about 60 processes inside.
        $busy = New-Sandbox -Name (New-TestName 'gvpids') -Runtime runsc -Timeout 120
        $busy.Limits.PidsLimit | Should -Be 100 -Because 'the sandbox shows the limit asked for'
        (Get-ContainerInspect $busy.Id).HostConfig.PidsLimit | Should -Be 1100
        $busy | Invoke-SandboxCommand 'for i in $(seq 95); do sleep 300 & done; sleep 1; ls /proc | grep -c "^[0-9]"' | Should -BeGreaterOrEqual 96
        $busy | Invoke-SandboxCommand 'echo alive' | Should -Be 'alive' -Because 'the sandbox lives on with 95 processes running in it'
        $busy | Stop-Sandbox
    }

    It 'a fork bomb meets the engine''s limit (1,100 host pids) and gVisor stops the sandbox: early, never late' {
        # Measured here: the bomb filled the 1,100 host pids within about a second and gVisor stopped the whole sandbox.
        $bomb = New-Sandbox -Name (New-TestName 'gvbomb') -Runtime runsc -Timeout 60
        try {
            (Get-ContainerInspect $bomb.Id).HostConfig.PidsLimit | Should -Be 1100
            docker exec -d $bomb.Id sh -c 'b() { b & b & wait; }; b' | Out-Null
            Wait-Until { -not (docker ps -aq --filter "id=$($bomb.Id)") } -TimeoutSec 30 | Should -BeTrue -Because 'gVisor stops a sandbox whose kernel cannot get another host thread'
            [datetime]::UtcNow | Should -BeLessThan $bomb.ExpiresAt.ToUniversalTime() -Because 'it ended long before its deadline'
        }
        finally { docker rm -f $bomb.Id *> $null }
    }

    It 'PID 1 is the deadline guard' {
        (Invoke-SandboxCommand -Sandbox $script:Gvisor -Command 'tr "\0" " " < /proc/1/cmdline') | Should -Match 'sandbox-deadline'
    }

    It 'Invoke-SandboxCode -Runtime runsc runs the code in a throwaway gVisor sandbox' {
        Invoke-SandboxCode -Language sh -Code 'dmesg | head -n 1' -Image (Get-TestImage) -Runtime runsc | Should -Match 'Starting gVisor'
    }

    It 'Use-Sandbox -Runtime runsc gives the script block a gVisor sandbox' {
        $runtime = Use-Sandbox -Runtime runsc -ScriptBlock { param($s) $s.Runtime; Invoke-SandboxCommand -Sandbox $s -Command 'dmesg | head -n 1' }
        $runtime[0] | Should -Be 'runsc'
        $runtime[1] | Should -Match 'Starting gVisor'
    }

    It 'a pool with -Runtime serves New-Sandbox with the same -Runtime, and not one without it' {
        $name = New-TestName 'pool'
        $pool = Start-SandboxPool -Name $name -Size 1 -Runtime runsc -Wait
        try {
            $other = New-Sandbox -Timeout 60 -ErrorAction Stop
            $other.Pool | Should -BeNullOrEmpty -Because 'a sandbox on runc cannot come from a runsc pool'
            $other | Stop-Sandbox -Confirm:$false
            $taken = New-Sandbox -Runtime runsc -Timeout 60
            $taken.Pool | Should -Be $name
            $taken.Runtime | Should -Be 'runsc'
            (Invoke-SandboxCommand -Sandbox $taken -Command 'dmesg | head -n 1') | Should -Match 'Starting gVisor'
            $taken | Stop-Sandbox -Confirm:$false
        }
        finally { Stop-SandboxPool -Name $name -Confirm:$false }
    }

    It 'completes -Runtime with the engine''s runtimes' {
        $line = 'New-Sandbox -Runtime r'
        $texts = @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText)
        $texts | Should -Contain 'runc'
        $texts | Should -Contain 'runsc'
    }
}

Describe '-Runtime errors' {
    It 'a runtime the engine lacks: RuntimeNotFound, listing the runtimes it has and how to register one; nothing left behind' {
        $name = New-TestName 'none'
        $e = { New-Sandbox -Name $name -Runtime 'no-such-runtime' -ErrorAction Stop } | Should -Throw -ErrorId 'RuntimeNotFound*' -PassThru
        $e.Exception.Message | Should -Match "no runtime 'no-such-runtime'"
        $e.Exception.Message | Should -Match '\brunc\b'
        $e.ErrorDetails.RecommendedAction | Should -Match 'daemon.json'
        Test-ContainerExists $name | Should -BeFalse
    }

    It 'the same over ssh://' {
        $remote = Get-TestRemoteSetting
        $e = Use-TestSshHome -Path $remote.SshHome {
            { New-Sandbox -DockerHost $remote.SshHost -Name (New-TestName 'sshnone') -Runtime 'no-such-runtime' -ErrorAction Stop } | Should -Throw -ErrorId 'RuntimeNotFound*' -PassThru
        }
        $e.Exception.Message | Should -Match '\brunc\b'
    }

    It 'a start-up check for pools: Start-SandboxPool fails at once' {
        { Start-SandboxPool -Name (New-TestName 'nopool') -Size 1 -Runtime 'no-such-runtime' -ErrorAction Stop } | Should -Throw -ErrorId 'RuntimeNotFound*'
    }

    It 'a name that cannot be a runtime is refused before the engine is asked' {
        { New-Sandbox -Runtime 'run sc' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidRuntime*'
    }

    It 'on a cluster: RuntimeNotOnCluster (a swarm service cannot choose its runtime)' {
        foreach ($command in 'New-Sandbox', 'Start-SandboxPool', 'Invoke-SandboxCode') {
            $options = @{ Cluster = 'ssh://nobody@192.0.2.1'; Runtime = 'runsc'; ErrorAction = 'Stop' }
            if ($command -eq 'Invoke-SandboxCode') { $options.Language = 'sh'; $options.Code = 'true' }
            { & $command @options } | Should -Throw -ErrorId 'RuntimeNotOnCluster*' -Because "$command -Cluster -Runtime"
        }
    }
}

Describe '-Runtime runsc: the deadline guard ends the sandbox on time with no PowerShell alive, also against hostile code' -Skip:$SkipGvisor {
    BeforeAll {
        # Nothing of the module may run here: its cleanup engine would sweep these sandboxes once they expire.
        Remove-Module Sandbox -Force
        $work = New-Item -ItemType Directory -Force -Path (Join-Path $TestDrive 'owner')
        # As in Deadline.Tests.ps1, with a proof of hold that needs no process inside (docker top shows the engine host's
        # processes under runsc 20221219): the attack writes /tmp/held, a volume read from here.
        $script:Attacks = [ordered]@{
            idle   = ''
            freeze = 'sleep 997 & V=$!; while :; do kill -STOP -1; S=; { read A B S R </proc/$V/stat; } 2>/dev/null; [ "$S" = T ] && echo held >/tmp/held; sleep 0.2; done'
            kill   = 'sleep 998 & V=$!; while :; do kill -9 -1; S=; { read A B S R </proc/$V/stat; } 2>/dev/null; case $S in Z|"") echo held >/tmp/held;; esac; done'
        }
        $script:Made = [ordered]@{}
        foreach ($key in $script:Attacks.Keys) { $script:Made[$key] = [pscustomobject]@{ Key = $key; Name = New-TestName "dl$key"; Script = $script:Attacks[$key]; Held = $key -eq 'idle' } }
        $specFile = Join-Path $work 'spec.json'
        @($script:Made.Values) | ConvertTo-Json | Set-Content -LiteralPath $specFile
        $ready = Join-Path $work 'ready.txt'
        $events = Join-Path $work 'events.txt'
        $script:EventsProcess = Start-Process -FilePath docker -PassThru -RedirectStandardOutput $events -RedirectStandardError "$events.err" -ArgumentList @(
            'events', '--filter', 'type=container', '--filter', 'event=die', '--filter', 'event=destroy', '--filter', 'label=io.sandbox.managed=true',
            '--format', '{{.Action}}|{{.Actor.Attributes.name}}|{{.Actor.Attributes.exitCode}}|{{.TimeNano}}')
        $budget = 14
        $script:Child = Start-ChildPwsh -WorkFolder $work -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
`$spec = Get-Content -Raw -LiteralPath '$specFile' | ConvertFrom-Json
`$base = [datetime]::UtcNow.AddSeconds($budget)
`$made = foreach (`$s in `$spec) {
    `$sandbox = New-Sandbox -Name `$s.Name -Runtime runsc -Timeout ([int][math]::Ceiling((`$base - [datetime]::UtcNow).TotalSeconds))
    # Started detached by the engine, not through a command that returns while its orphan runs on: under runsc
    # 20221219 an exec whose orphan then stops every process loses its sandbox (urpc "containerManager.WaitPID"
    # failed: EOF), which is gVisor's, not the guard's (about_Sandbox, "Stronger isolation").
    if (`$s.Script) { docker exec -d -e "ATTACK=`$(`$s.Script)" `$sandbox.Id sh -c 'exec sh -c "`$ATTACK"' | Out-Null }
    '{0}|{1:o}' -f `$sandbox.Name, `$sandbox.ExpiresAt.ToUniversalTime()
}
Set-Content -LiteralPath '$ready.tmp' -Value (@(`$PID) + `$made)
Move-Item -LiteralPath '$ready.tmp' -Destination '$ready'
Start-Sleep -Seconds 120
"@
        try {
            $script:Ready = Wait-Until { Test-Path -LiteralPath $ready } -TimeoutSec 60 -IntervalMs 50
            $script:ChildOutput = Get-ChildOutput $work
            if ($script:Ready) {
                $script:RealPid, $expiries = Get-Content -LiteralPath $ready
                foreach ($m in $script:Made.Values) {
                    $expires = @($expiries | Where-Object { $_ -like "$($m.Name)|*" }) | ForEach-Object { ($_ -split '\|', 2)[1] }
                    $m | Add-Member -NotePropertyName Deadline -NotePropertyValue $(if ($expires) { [datetimeoffset]::Parse($expires, [cultureinfo]::InvariantCulture).UtcDateTime })
                }
                $null = Wait-Until {
                    foreach ($m in $script:Made.Values) { if (-not $m.Held) { $m.Held = "$(Get-TmpVolumeFile -Name $m.Name -File 'held')".Trim() -eq 'held' } }
                    @($script:Made.Values | Where-Object { -not $_.Held }).Count -eq 0
                } -TimeoutSec 8 -IntervalMs 100
                Stop-Process -Id $script:RealPid -Force          # SIGKILL: no cleanup code runs in the owner
                $script:KilledAt = [datetime]::UtcNow
            }
        }
        finally {
            if ($script:RealPid) { Stop-Process -Id $script:RealPid -Force -ErrorAction SilentlyContinue }
            if (-not $script:Child.HasExited) { $script:Child.Kill($true) }
        }
        if ($script:Ready) {
            $last = @($script:Made.Values | Where-Object Deadline | ForEach-Object Deadline | Sort-Object -Descending) + [datetime]::UtcNow | Select-Object -First 1
            $engineEvents = {
                Get-Content -LiteralPath $events -ErrorAction SilentlyContinue | ForEach-Object {
                    $action, $n, $code, $nano = $_ -split '\|', 4
                    [pscustomobject]@{ Action = $action; Name = $n; ExitCode = $code; Time = [DateTimeOffset]::FromUnixTimeMilliseconds([long]([decimal]$nano / 1000000)).UtcDateTime }
                }
            }
            $null = Wait-Until { @($script:Made.Values | Where-Object { $n = $_.Name; -not (& $engineEvents | Where-Object { $_.Name -eq $n -and $_.Action -eq 'destroy' }) }).Count -eq 0 } `
                -Deadline $last.AddSeconds(5) -IntervalMs 250
            foreach ($m in $script:Made.Values) {
                $die = & $engineEvents | Where-Object { $_.Name -eq $m.Name -and $_.Action -eq 'die' } | Select-Object -First 1
                $m | Add-Member -NotePropertyName ExitCode -NotePropertyValue $(if ($die) { $die.ExitCode })
                $m | Add-Member -NotePropertyName DieLate -NotePropertyValue $(if ($die -and $m.Deadline) { [math]::Round(($die.Time - $m.Deadline).TotalSeconds, 2) })
                Write-Host ('  runsc {0,-7} held {1,-5} exit {2,-4} stopped {3,6} s after its deadline ({4})' -f $m.Key, $m.Held, $m.ExitCode, $m.DieLate, $m.Name)
            }
        }
    }

    AfterAll {
        if ($script:EventsProcess -and -not $script:EventsProcess.HasExited) { $script:EventsProcess.Kill() }
    }

    It 'made the sandboxes, started the attacks and killed the owner before any deadline' {
        $script:Ready | Should -BeTrue -Because "the child pwsh should have made the sandboxes: $script:ChildOutput"
        @($script:Made.Values | Where-Object { -not $_.Deadline -or $_.Deadline -le $script:KilledAt }).Count | Should -Be 0
    }

    It '<_>: the sandbox ends by its own guard at its deadline, never before it and within 3 s' -ForEach @('idle', 'freeze', 'kill') {
        $m = $script:Made[$_]
        $m.Held | Should -BeTrue -Because "the attack should have taken hold before the owner was killed"
        $m.ExitCode | Should -Be '0' -Because 'PID 1 must end by itself at the deadline (gVisor keeps its own /proc/uptime, which the guard reads)'
        $m.DieLate | Should -BeGreaterOrEqual 0 -Because 'the guard''s clock must err late, never early'
        $m.DieLate | Should -BeLessOrEqual 3
    }
}
