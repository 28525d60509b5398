#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Engine faults (issue 4, item 4): the engine goes away in the middle of a command, is unreachable, comes back.
# The real dockerd is shared with other test runs, so it is never stopped: the module talks to it through a socat
# proxy on a socket of this file's own (-DockerHost unix://<TestDrive>/engine.sock), and the tests kill that proxy
# (the listener and every connection it forked) to make the engine vanish, and start it again on the same path.

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'fault'

    $script:HaveSocat = [bool](Get-Command socat -CommandType Application -ErrorAction SilentlyContinue)
    $script:EngineSocket = if ($env:DOCKER_HOST -like 'unix://*') { $env:DOCKER_HOST.Substring(7) } else { '/var/run/docker.sock' }
    # A short path: unix socket paths are limited to 107 bytes.
    $script:ProxySocket = Join-Path $TestDrive 'engine.sock'
    $script:ProxyHost = "unix://$script:ProxySocket"
    $script:Proxies = [System.Collections.Generic.List[int]]::new()

    # Kills a socat listener and the connections it forked: stop the listener first so that it forks no more,
    # then kill its children, then the listener. Text, so that a background runspace can run it too.
    $script:KillProxyText = @'
param([int] $ProxyPid)
/bin/kill -STOP $ProxyPid 2>$null
$children = @(& ps -o pid= --ppid $ProxyPid 2>$null | ForEach-Object { $_.Trim() } | Where-Object { $_ })
foreach ($child in $children) { /bin/kill -KILL $child 2>$null }
/bin/kill -KILL $ProxyPid 2>$null
[datetime]::UtcNow
'@

    function Test-ProxyAnswers {
        $socket = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::Unix, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Unspecified)
        try { $socket.Connect([System.Net.Sockets.UnixDomainSocketEndPoint]::new($script:ProxySocket)); $true }
        catch { $false }
        finally { $socket.Dispose() }
    }

    function New-ThrottledRelay {
        # A script for socat's EXEC: one connection to the engine whose answers pass 64 KiB at a time with 10 ms of
        # rest after each, so at 6.5 MB/s at most. perl-base is part of every Debian system.
        $relay = Join-Path $TestDrive 'throttled-relay.sh'
        Set-Content -LiteralPath $relay -Value (@'
#!/bin/sh
socat - 'UNIX-CONNECT:ENGINE_SOCKET' | perl -e 'binmode STDIN; binmode STDOUT; while (my $n = sysread STDIN, my $buffer, 65536) { for (my $at = 0; $at < $n;) { my $written = syswrite STDOUT, $buffer, $n - $at, $at; exit 1 unless defined $written; $at += $written } select undef, undef, undef, 0.01 }'
'@ -replace 'ENGINE_SOCKET', $script:EngineSocket)
        chmod +x $relay
        $relay
    }

    function Start-EngineProxy {
        # socat in front of the engine socket; unlink-early takes over the path a killed proxy left behind.
        # -Throttled: through New-ThrottledRelay, so that a copy of tens of MB takes seconds on any machine.
        param([switch] $Throttled)
        $log = Join-Path $TestDrive ('socat-{0}' -f [Guid]::NewGuid().ToString('n').Substring(0, 6))
        $engine = if ($Throttled) { "EXEC:$(New-ThrottledRelay)" } else { "UNIX-CONNECT:$($script:EngineSocket)" }
        # The shell sends socat's output to the files itself: Start-Process -Redirect* hands it to handlers in this
        # process, and a line a killed relay writes after Start-Process has closed its writer crashes pwsh.
        $process = Start-Process -FilePath sh -PassThru -ArgumentList '-c', ('"exec socat \"$0\" \"$1\" >>\"$2\" 2>>\"$3\""'),
            "UNIX-LISTEN:$($script:ProxySocket),fork,unlink-early", $engine, "$log.out", "$log.err"
        $script:Proxies.Add($process.Id)
        if (-not (Wait-Until { Test-ProxyAnswers } -TimeoutSec 5 -IntervalMs 50)) { throw "socat did not listen on $script:ProxySocket: $(Get-Content "$log.err" -Raw)" }
        $process
    }

    function Confirm-EngineProxy {
        # The proxy of this context, started again when an earlier test left it dead.
        if (-not $script:Proxy -or $script:Proxy.HasExited -or -not (Test-ProxyAnswers)) { $script:Proxy = Start-EngineProxy }
        $script:Proxy
    }

    function Stop-EngineProxy {
        # Returns when it was killed (UTC).
        param([Parameter(Mandatory)] [System.Diagnostics.Process] $Process)
        & ([scriptblock]::Create($script:KillProxyText)) $Process.Id
    }

    function Start-ProxyKiller {
        # Kills the proxy from another runspace after a delay; EndInvoke gives the time it was killed.
        param([Parameter(Mandatory)] [System.Diagnostics.Process] $Process, [int] $DelayMs = 1500)
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Start-Sleep -Milliseconds $DelayMs").AddStatement().AddScript($script:KillProxyText).AddArgument($Process.Id)
        [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke() }
    }

    function Wait-ProxyKiller {
        param([Parameter(Mandatory)] $Killer)
        try { @($Killer.PowerShell.EndInvoke($Killer.Handle))[-1] } finally { $Killer.PowerShell.Dispose() }
    }

    function Measure-Call {
        # Runs the block, catching terminating errors too; returns its output, errors and duration.
        param([Parameter(Mandatory)] [scriptblock] $ScriptBlock)
        # Every error the cmdlet writes, whatever the caller's preference (the test runner sets Stop).
        $ErrorActionPreference = 'Continue'
        $all = [System.Collections.Generic.List[object]]::new()
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        try { & $ScriptBlock 2>&1 | ForEach-Object { $all.Add($_) } } catch { $all.Add($_) }
        $clock.Stop()
        $errors = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $output = @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
        [pscustomobject]@{ Output = $output; Errors = $errors; Seconds = $clock.Elapsed.TotalSeconds; EndedAt = [datetime]::UtcNow }
    }
}

AfterAll {
    foreach ($id in $script:Proxies) { if (Get-Process -Id $id -ErrorAction SilentlyContinue) { & ([scriptblock]::Create($script:KillProxyText)) $id | Out-Null } }
    Complete-SandboxTest
}

Describe 'Engine faults' {

    Context 'the engine is unreachable from the start' {
        BeforeAll {
            $script:Nowhere = "unix:///tmp/nothing-$([Guid]::NewGuid().ToString('n').Substring(0, 8)).sock"
            $script:Somewhere = New-Sandbox -Name (New-TestName 'real')
        }

        It '<Cmdlet> -DockerHost unix:///tmp/nothing.sock fails fast with DockerEndpointUnavailable (ConnectionError)' -TestCases @(
            @{ Cmdlet = 'Get-Sandbox'; Call = { Get-Sandbox -DockerHost $Nowhere } }
            @{ Cmdlet = 'New-Sandbox'; Call = { New-Sandbox -DockerHost $Nowhere -Name (New-TestName 'nowhere') } }
            @{ Cmdlet = 'Invoke-SandboxCommand'; Call = { Invoke-SandboxCommand -Sandbox $Somewhere -DockerHost $Nowhere 'echo hi' } }
            @{ Cmdlet = 'Copy-SandboxItem'; Call = { Copy-SandboxItem -Sandbox $Somewhere -DockerHost $Nowhere -FromSandbox /etc/hostname -Destination $TestDrive } }
            @{ Cmdlet = 'Stop-Sandbox'; Call = { Stop-Sandbox -Name $Somewhere.Name -DockerHost $Nowhere } }
        ) {
            $r = Measure-Call $Call
            $r.Seconds | Should -BeLessThan 3
            $r.Errors | Should -HaveCount 1
            $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'DockerEndpointUnavailable,*'
            $r.Errors[0].CategoryInfo.Category | Should -Be 'ConnectionError'
            $r.Output | Should -BeNullOrEmpty
        }

        It 'says which address failed and what to do' {
            $r = Measure-Call { Get-Sandbox -DockerHost $Nowhere }
            $record = $r.Errors[0]
            $record.Exception.Message | Should -BeLike "*$($Nowhere.Substring(7))*"
            $record.Exception.Message | Should -Not -Match '\bat Sandbox\.|\bat System\.'   # no stack trace
            $record.ErrorDetails.RecommendedAction | Should -Match 'dockerd|-DockerHost|DOCKER_HOST'
            $record.TargetObject | Should -BeLike "*$($Nowhere.Substring(7))*"
        }

        It 'leaves the sandbox it could not reach alone, and New-Sandbox leaves no container' {
            Test-ContainerExists $Somewhere.Id | Should -BeTrue
            @(Get-ManagedContainerName -Like "$(Get-TestPrefix)-nowhere-*") | Should -HaveCount 0
        }

        It 'Get-Sandbox -Name through an unreachable engine reports only the outage, not SandboxNotFound' {
            # The engine never answered, so "no sandbox with name ..." would be a false statement.
            $r = Measure-Call { Get-Sandbox -DockerHost $Nowhere -Name $Somewhere.Name }
            $r.Errors.FullyQualifiedErrorId | ForEach-Object { ($_ -split ',')[0] } | Should -Be @('DockerEndpointUnavailable')
        }
    }

    Context 'the engine goes away in the middle of a command' -Skip:(-not (Get-Command socat -CommandType Application -ErrorAction SilentlyContinue)) {

        It 'Invoke-SandboxCommand running <Name> returns within 5 s with DockerEndpointUnavailable' -TestCases @(
            @{ Name = "'sleep 30'"; Command = 'sleep 30'; Streams = $false }
            @{ Name = 'a command that streams output'; Command = 'i=0; while [ $i -lt 300 ]; do echo "line $i"; i=$((i+1)); sleep 0.1; done'; Streams = $true }
        ) {
            $proxy = Start-EngineProxy
            $sb = New-Sandbox -Name (New-TestName 'midcmd') -DockerHost $ProxyHost
            $sb.DockerHost | Should -Be $ProxyHost

            $killer = Start-ProxyKiller -Process $proxy -DelayMs 2000
            $r = Measure-Call { Invoke-SandboxCommand -Sandbox $sb -Command $Command }
            $killedAt = Wait-ProxyKiller $killer

            $r.Seconds | Should -BeLessThan 10 -Because 'the command would have run 30 s'
            ($r.EndedAt - $killedAt).TotalSeconds | Should -BeLessThan 5 -Because 'the cmdlet must notice the lost engine at once'
            if ($Streams) { $r.Output.Count | Should -BeGreaterThan 3 -Because 'lines before the outage were streamed' }
            $r.Errors | Should -HaveCount 1
            $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'DockerEndpointUnavailable,*'
            $r.Errors[0].CategoryInfo.Category | Should -Be 'ConnectionError'
            $r.Errors[0].Exception.Message | Should -BeLike "*$ProxySocket*"
        }

        It '-PassThru gives no result claiming success when the engine went away' {
            $proxy = Start-EngineProxy
            $sb = New-Sandbox -Name (New-TestName 'midpass') -DockerHost $ProxyHost
            $killer = Start-ProxyKiller -Process $proxy -DelayMs 1500
            $r = Measure-Call { Invoke-SandboxCommand -Sandbox $sb -Command 'sleep 30' -PassThru }
            $null = Wait-ProxyKiller $killer
            $results = @($r.Output | Where-Object { $_ -is [Sandbox.SandboxCommandResult] })
            $results | Where-Object Succeeded | Should -BeNullOrEmpty
            $r.Errors.FullyQualifiedErrorId | Should -BeLike 'DockerEndpointUnavailable,*'
        }
    }

    Context 'the engine goes away in the middle of a copy' -Skip:(-not (Get-Command socat -CommandType Application -ErrorAction SilentlyContinue)) {
        BeforeAll {
            # The engine's answers come through the throttled relay, so that the 64 MB copy takes 10 s or more on any
            # machine; the proxy is killed as soon as 4 MB have arrived here, with most of the copy still to come.
            $script:CopyProxy = Start-EngineProxy -Throttled
            $script:Big = New-Sandbox -Name (New-TestName 'bigcopy') -DockerHost $ProxyHost
            Invoke-SandboxCommand -Sandbox $Big 'head -c 64m /dev/zero > /tmp/big' | Out-Null
            $script:BigDest = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'bigcopy') -Force
            # Whatever name the copy writes under: the bytes that have arrived in the destination folder.
            $watch = "`$end = [datetime]::UtcNow.AddSeconds(60); `$arrived = 0
                while ([datetime]::UtcNow -lt `$end) {
                    `$arrived = [long](Get-ChildItem -LiteralPath '$BigDest' -File -Force | Measure-Object Length -Sum).Sum
                    if (`$arrived -ge 4MB) { break }
                    Start-Sleep -Milliseconds 5
                }
                `$arrived"
            $ps = [powershell]::Create()
            $null = $ps.AddScript($watch).AddStatement().AddScript($KillProxyText).AddArgument($CopyProxy.Id)
            $handle = $ps.BeginInvoke()
            $script:CopyRun = Measure-Call { Copy-SandboxItem -Sandbox $Big -FromSandbox -Path /tmp/big -Destination $BigDest }
            $script:ArrivedAtKill, $script:CopyKilledAt = @($ps.EndInvoke($handle))[-2, -1]
            $ps.Dispose()
        }

        It 'Copy-SandboxItem -FromSandbox returns at once with DockerEndpointUnavailable' {
            $ArrivedAtKill | Should -BeGreaterOrEqual 4MB -Because 'the proxy is killed once the copy has begun to arrive'
            $ArrivedAtKill | Should -BeLessThan 64MB -Because 'the proxy is killed before the copy has finished'
            ($CopyRun.EndedAt - $CopyKilledAt).TotalSeconds | Should -BeLessThan 5
            $CopyRun.Errors | Should -HaveCount 1
            $CopyRun.Errors[0].FullyQualifiedErrorId | Should -BeLike 'DockerEndpointUnavailable,*'
            $CopyRun.Errors[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        }

        It 'leaves no truncated file that looks like a finished copy, and no partial file either' {
            $ArrivedAtKill | Should -BeLessThan 64MB -Because 'the proxy is killed before the copy has finished'
            Join-Path $BigDest 'big' | Should -Not -Exist -Because 'a partial file must not be left under the final name'
            Get-ChildItem -LiteralPath $BigDest -Force | Should -BeNullOrEmpty -Because 'the copy removes what it had written'
        }
    }

    Context 'cmdlets while the engine is down, and after it is back' -Skip:(-not (Get-Command socat -CommandType Application -ErrorAction SilentlyContinue)) {
        BeforeAll {
            $script:Proxy = Start-EngineProxy
            $script:Target = New-Sandbox -Name (New-TestName 'down') -DockerHost $ProxyHost
            $script:Payload = Join-Path $TestDrive 'payload.txt'
            Set-Content -LiteralPath $script:Payload -Value 'payload'
            $null = Stop-EngineProxy $script:Proxy
        }

        It '<Cmdlet> through the dead proxy fails fast with DockerEndpointUnavailable' -TestCases @(
            @{ Cmdlet = 'Get-Sandbox'; Call = { Get-Sandbox -DockerHost $ProxyHost } }
            @{ Cmdlet = 'Get-Sandbox -Name'; Call = { Get-Sandbox -DockerHost $ProxyHost -Name $Target.Name } }
            @{ Cmdlet = 'New-Sandbox'; Call = { New-Sandbox -DockerHost $ProxyHost -Name (New-TestName 'downnew') } }
            @{ Cmdlet = 'Invoke-SandboxCommand'; Call = { Invoke-SandboxCommand -Sandbox $Target 'echo hi' } }
            @{ Cmdlet = 'Copy-SandboxItem -FromSandbox'; Call = { Copy-SandboxItem -Sandbox $Target -FromSandbox /etc/hostname -Destination $TestDrive } }
            @{ Cmdlet = 'Copy-SandboxItem -ToSandbox'; Call = { Copy-SandboxItem -Sandbox $Target -Path $Payload -Destination /tmp } }
            @{ Cmdlet = 'Stop-Sandbox'; Call = { Stop-Sandbox -Sandbox $Target } }
        ) {
            $r = Measure-Call $Call
            $r.Seconds | Should -BeLessThan 3
            $r.Errors | Should -Not -BeNullOrEmpty
            $r.Errors.FullyQualifiedErrorId | ForEach-Object { ($_ -split ',')[0] } | Select-Object -Unique | Should -Be 'DockerEndpointUnavailable'
            $r.Errors[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        }

        It 'the failed Stop-Sandbox did not lose the sandbox, and the failed New-Sandbox left nothing' {
            Test-ContainerExists $Target.Id | Should -BeTrue
            @(Get-ManagedContainerName -Like "$(Get-TestPrefix)-downnew-*") | Should -HaveCount 0
        }

        It 'the next cmdlets reconnect once the engine is back on the same address' {
            $null = Confirm-EngineProxy
            $r = Measure-Call { Get-Sandbox -DockerHost $ProxyHost -Name $Target.Name }
            $r.Errors | Should -BeNullOrEmpty
            $r.Output.Id | Should -Be $Target.Id
            $r.Seconds | Should -BeLessThan 3

            Invoke-SandboxCommand -Sandbox $Target 'echo back' | Should -Be 'back'
            Stop-Sandbox -Sandbox $Target
            Wait-Until { -not (Test-ContainerExists $Target.Id) } -TimeoutSec 5 | Should -BeTrue
        }

        It 'a Stop-Sandbox that fails in an outage keeps the sandbox''s -OnKill hook for when it is really removed' {
            $log = Join-Path $TestDrive 'stop-outage-onkill.log'
            $null = Confirm-EngineProxy
            $sb = New-Sandbox -Name (New-TestName 'stophook') -DockerHost $ProxyHost -OnKill (New-FileHook $log)
            $null = Stop-EngineProxy $script:Proxy
            (Measure-Call { Stop-Sandbox -Sandbox $sb }).Errors.FullyQualifiedErrorId | Should -BeLike 'DockerEndpointUnavailable,*'
            Test-ContainerExists $sb.Id | Should -BeTrue
            Test-Path -LiteralPath $log | Should -BeFalse -Because 'the sandbox was not removed, so its -OnKill hook must not run yet'

            $script:Proxy = Start-EngineProxy
            Stop-Sandbox -Sandbox $sb
            Test-ContainerExists $sb.Id | Should -BeFalse
            Test-Path -LiteralPath $log | Should -BeTrue -Because 'the hook runs when the sandbox is removed'
            @(Get-Content -LiteralPath $log) | Should -HaveCount 2
        }

        It 'an outage and a recovery in the middle of a run of commands' {
            $null = Confirm-EngineProxy
            $sb = New-Sandbox -Name (New-TestName 'flap') -DockerHost $ProxyHost
            Invoke-SandboxCommand -Sandbox $sb 'echo one' | Should -Be 'one'
            $null = Stop-EngineProxy $script:Proxy
            (Measure-Call { Invoke-SandboxCommand -Sandbox $sb 'echo two' }).Errors.FullyQualifiedErrorId | Should -BeLike 'DockerEndpointUnavailable,*'
            $script:Proxy = Start-EngineProxy
            Invoke-SandboxCommand -Sandbox $sb 'echo three' | Should -Be 'three'
            Stop-Sandbox -Sandbox $sb
        }
    }

    Context 'the cleanup engine survives an outage' -Skip:(-not (Get-Command socat -CommandType Application -ErrorAction SilentlyContinue)) {
        # In a child process that talks to no engine but the proxy (no import sweep of the default engine), so
        # that only the cleanup engine's own retries through the proxy can fire the hook and the event.
        It 'removes the expired sandbox, runs its -OnKill hook and raises Sandbox.Expired once the engine is back' {
            $work = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'cleanup-child') -Force
            $events = Join-Path $work 'events.log'
            $ready = Join-Path $work 'ready.json'
            $done = Join-Path $work 'done.txt'
            $name = New-TestName 'outage'
            $proxy = Start-EngineProxy
            $script = @'
$ErrorActionPreference = 'Stop'
$env:SANDBOX_NO_IMPORT_SWEEP = '1'
Import-Module $env:SANDBOX_MODULE_PATH
$null = Register-EngineEvent -SourceIdentifier Sandbox.Expired -Action {
    Add-Content -LiteralPath '__EVENTS__' -Value ('expired ' + $Event.SourceArgs[0].Name + ' ' + [datetime]::UtcNow.ToString('o'))
}
$hook = { Add-Content -LiteralPath '__EVENTS__' -Value ('onkill ' + $_.Name + ' ' + [datetime]::UtcNow.ToString('o')) }
$sb = New-Sandbox -Name '__NAME__' -DockerHost '__HOST__' -Timeout 6 -OnKill $hook
@{ Id = $sb.Id; Pid = $PID; ExpiresAt = $sb.ExpiresAt.ToString('o') } | ConvertTo-Json | Set-Content -LiteralPath '__READY__'
$end = [datetime]::UtcNow.AddSeconds(60)
while (-not (Test-Path -LiteralPath '__DONE__') -and [datetime]::UtcNow -lt $end) { Start-Sleep -Milliseconds 100 }
# Still able to work through the same address.
$errs = $null
$null = Get-Sandbox -DockerHost '__HOST__' -ErrorVariable errs -ErrorAction SilentlyContinue
Add-Content -LiteralPath '__EVENTS__' -Value ('alive errors=' + @($errs).Count)
'@
            $script = $script.Replace('__EVENTS__', $events).Replace('__NAME__', $name).Replace('__HOST__', $ProxyHost).Replace('__READY__', $ready).Replace('__DONE__', $done)
            $child = Start-ChildPwsh -Script $script -WorkFolder $work
            try {
                Wait-Until { Test-Path -LiteralPath $ready } -TimeoutSec 40 | Should -BeTrue -Because (Get-ChildOutput $work | Out-String)
                $info = Get-Content -LiteralPath $ready -Raw | ConvertFrom-Json
                $null = Stop-EngineProxy $proxy      # well before the 6 s deadline

                # The sandbox's own deadline still ends it, engine outage or not.
                $expires = [datetimeoffset]::Parse($info.ExpiresAt).UtcDateTime
                Wait-Until { -not (Test-ContainerExists $info.Id) } -Deadline $expires.AddSeconds(4) | Should -BeTrue
                Start-Sleep -Seconds 1
                # The cleanup engine could not reach the engine: nothing fired yet, and its process is still alive.
                @(Get-Content -LiteralPath $events -ErrorAction SilentlyContinue) | Should -BeNullOrEmpty
                Get-Process -Id $info.Pid -ErrorAction SilentlyContinue | Should -Not -BeNullOrEmpty

                $restartedAt = [datetime]::UtcNow
                $script:Proxy = Start-EngineProxy
                Wait-Until { @(Get-Content -LiteralPath $events -ErrorAction SilentlyContinue | Where-Object { $_ -like 'onkill *' -or $_ -like 'expired *' }).Count -ge 2 } -TimeoutSec 8 |
                    Should -BeTrue -Because 'the cleanup engine resumes when the engine is back'
                $lines = @(Get-Content -LiteralPath $events)
                $lines | Where-Object { $_ -like "onkill $name *" } | Should -HaveCount 1
                $lines | Where-Object { $_ -like "expired $name *" } | Should -HaveCount 1
                foreach ($line in $lines) {
                    [datetimeoffset]::Parse(($line -split ' ')[2]).UtcDateTime | Should -BeGreaterOrEqual $restartedAt.AddSeconds(-0.2)
                }

                Set-Content -LiteralPath $done -Value 'done'
                Wait-Until { $child.HasExited } -TimeoutSec 15 | Should -BeTrue
                @(Get-Content -LiteralPath $events) | Should -Contain 'alive errors=0'
            }
            finally {
                Set-Content -LiteralPath $done -Value 'done' -ErrorAction SilentlyContinue
                if (-not $child.HasExited) { Wait-Until { $child.HasExited } -TimeoutSec 10 | Out-Null }
                if (-not $child.HasExited) { Stop-Process -Id $child.Id -ErrorAction SilentlyContinue }
            }
        }
    }
}
