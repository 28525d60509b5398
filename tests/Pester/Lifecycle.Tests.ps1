#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# The lifetime promises of issue 10: one removal story (Sandbox.Stopped and -OnKill exactly once on every path),
# deadline reads that fail closed, pools that keep their word, no container left by a Ctrl+C during a create,
# removals that keep failing are reported, and Remove-Module lets go of what the process held. Engine faults come
# from tests/setup/fault_proxy.py, a proxy in front of the engine's socket that fails or holds chosen requests.

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'life'
    $script:ProxyScript = Join-Path (Get-TestRepoRoot) 'tests/setup/fault_proxy.py'

    # Starts the fault proxy on a fresh socket; returns @{ Process; Socket; Log; DockerHost }.
    function Start-FaultProxy {
        param([string[]] $Arguments = @(), [string] $Socket)
        if (-not $Socket) { $Socket = Join-Path ([IO.Path]::GetTempPath()) ('sbt-proxy-{0}.sock' -f [Guid]::NewGuid().ToString('n').Substring(0, 8)) }
        $log = "$Socket.log"
        $quoted = (@($script:ProxyScript, '--listen', $Socket, '--log', $log) + $Arguments) | ForEach-Object { '"{0}"' -f $_ }
        $process = Start-Process -FilePath python3 -PassThru -ArgumentList ($quoted -join ' ')
        if (-not (Wait-Until { Test-Path -LiteralPath $Socket } -TimeoutSec 10)) { throw "The fault proxy did not start on $Socket." }
        @{ Process = $process; Socket = $Socket; Log = $log; DockerHost = "unix://$Socket" }
    }

    function Stop-FaultProxy {
        param($Proxy)
        if ($Proxy -and -not $Proxy.Process.HasExited) {
            $Proxy.Process.Kill()
            $Proxy.Process.WaitForExit(5000) | Out-Null
        }
        if ($Proxy) { Remove-Item -LiteralPath $Proxy.Socket -ErrorAction SilentlyContinue }
    }

    function Get-ProxyLog {
        param($Proxy)
        if (Test-Path -LiteralPath $Proxy.Log) { @(Get-Content -LiteralPath $Proxy.Log) } else { @() }
    }

    # Keeps every event of a source as @{ Source; Id; Name; Argument } in $global:SandboxTestEvents.
    function Register-SandboxEvent {
        param([string] $Source)
        if (-not (Test-Path variable:global:SandboxTestEvents)) { $global:SandboxTestEvents = [Collections.ArrayList]::new() }
        $null = Register-EngineEvent -SourceIdentifier $Source -Action {
            $argument = $Event.SourceArgs[0]
            $sandbox = if ($argument -is [Sandbox.Sandbox]) { $argument } else { $argument.Sandbox }
            [void]$global:SandboxTestEvents.Add([pscustomobject]@{ Source = $Event.SourceIdentifier; Id = $sandbox.Id; Name = $sandbox.Name; Argument = $argument })
        }
    }

    function Unregister-SandboxEvent {
        param([string] $Source)
        Unregister-Event -SourceIdentifier $Source -ErrorAction SilentlyContinue
        Get-Job -Name $Source -ErrorAction SilentlyContinue | Remove-Job -Force
    }

    # Events of one source for one sandbox id.
    function Get-SandboxEvent {
        param([string] $Source, [string] $Id)
        @($global:SandboxTestEvents | Where-Object { $_.Source -eq $Source -and $_.Id -eq $Id })
    }

    # A sandbox stopped after the path under test: once its Sandbox.Stopped is here, any second event of the
    # sandbox under test (raised before it) is here too.
    function Wait-Sentinel {
        $sentinel = New-Sandbox -Name (New-TestName 'sentinel') -Timeout 60
        $sentinel | Stop-Sandbox
        Wait-Until { (Get-SandboxEvent Sandbox.Stopped $sentinel.Id).Count -ge 1 } -TimeoutSec 10 | Should -BeTrue
    }

    function Get-HookCount {
        param([string] $Path)
        if (Test-Path -LiteralPath $Path) { @(Get-Content -LiteralPath $Path | Where-Object { $_ -like 'dollar_=*' }).Count } else { 0 }
    }
}

AfterAll {
    Complete-SandboxTest
}

Describe 'One removal story: Sandbox.Stopped and -OnKill exactly once on every path' {
    BeforeAll {
        Register-SandboxEvent Sandbox.Stopped
        Register-SandboxEvent Sandbox.Expired
    }
    AfterAll {
        Unregister-SandboxEvent Sandbox.Stopped
        Unregister-SandboxEvent Sandbox.Expired
    }

    It 'Stop-Sandbox' {
        $hook = Join-Path $TestDrive 'stop.log'
        $sandbox = New-Sandbox -Name (New-TestName 'stop') -OnKill (New-FileHook $hook)
        $sandbox | Stop-Sandbox
        Get-HookCount $hook | Should -Be 1
        Wait-Sentinel
        (Get-SandboxEvent Sandbox.Stopped $sandbox.Id).Count | Should -Be 1
        (Get-SandboxEvent Sandbox.Expired $sandbox.Id).Count | Should -Be 0
    }

    It 'Use-Sandbox' {
        $hook = Join-Path $TestDrive 'use.log'
        $id = Use-Sandbox -Name (New-TestName 'use') -OnKill (New-FileHook $hook) -ScriptBlock { $_.Id }
        Test-ContainerExists $id | Should -BeFalse
        Get-HookCount $hook | Should -Be 1
        Wait-Sentinel
        (Get-SandboxEvent Sandbox.Stopped $id).Count | Should -Be 1
    }

    It 'New-Sandbox -Replace' {
        $hook = Join-Path $TestDrive 'replace.log'
        $project = New-TestProjectId 'replace'
        $old = New-Sandbox -ProjectId $project -Path $TestDrive -OnKill (New-FileHook $hook)
        $new = New-Sandbox -ProjectId $project -Path $TestDrive -Replace
        try {
            Test-ContainerExists $old.Id | Should -BeFalse
            Get-HookCount $hook | Should -Be 1
            Wait-Sentinel
            (Get-SandboxEvent Sandbox.Stopped $old.Id).Count | Should -Be 1
        }
        finally { $new | Stop-Sandbox }
    }

    It 'Invoke-SandboxCode in a throwaway sandbox' {
        $before = @($global:SandboxTestEvents | ForEach-Object Id)
        Invoke-SandboxCode -Language sh -Code 'echo from-throwaway' -Image (Get-TestImage) | Should -Be 'from-throwaway'
        Wait-Sentinel
        $throwaway = @($global:SandboxTestEvents | Where-Object { $_.Source -eq 'Sandbox.Stopped' -and $_.Id -notin $before -and $_.Name -notlike '*sentinel*' })
        $throwaway.Count | Should -Be 1 -Because 'the throwaway sandbox is announced once'
        Test-ContainerExists $throwaway[0].Id | Should -BeFalse
    }

    It 'the cleanup engine at the deadline (Sandbox.Expired, never Sandbox.Stopped)' {
        $hook = Join-Path $TestDrive 'expire.log'
        $sandbox = New-Sandbox -Name (New-TestName 'expire') -Timeout 2 -OnKill (New-FileHook $hook)
        Wait-Until { (Get-SandboxEvent Sandbox.Expired $sandbox.Id).Count -ge 1 -and (Get-HookCount $hook) -ge 1 } -TimeoutSec 20 | Should -BeTrue
        Wait-Sentinel
        (Get-SandboxEvent Sandbox.Expired $sandbox.Id).Count | Should -Be 1
        (Get-SandboxEvent Sandbox.Stopped $sandbox.Id).Count | Should -Be 0
        Get-HookCount $hook | Should -Be 1
    }

    It 'a Stop-Sandbox racing the cleanup engine at the deadline still announces once' {
        $hook = Join-Path $TestDrive 'race.log'
        $sandbox = New-Sandbox -Name (New-TestName 'race') -Timeout 2 -OnKill (New-FileHook $hook)
        Wait-Until { $sandbox.IsExpired } -TimeoutSec 10 | Should -BeTrue
        $sandbox | Stop-Sandbox -ErrorAction SilentlyContinue
        Wait-Until { (Get-HookCount $hook) -ge 1 } -TimeoutSec 10 | Should -BeTrue
        Wait-Sentinel
        ((Get-SandboxEvent Sandbox.Stopped $sandbox.Id).Count + (Get-SandboxEvent Sandbox.Expired $sandbox.Id).Count) | Should -Be 1
        Get-HookCount $hook | Should -Be 1
    }
}

Describe 'Deadline reads fail closed' {
    It 'a sweep that cannot read the deadline file keeps a sandbox that Set-Sandbox extended past its label deadline, and says so' {
        $sandbox = New-Sandbox -Name (New-TestName 'extended') -Timeout 3
        $sandbox | Set-Sandbox -Timeout 120
        $labelDeadline = [DateTimeOffset]::FromUnixTimeSeconds([long](Get-ContainerLabel $sandbox.Id 'io.sandbox.expires') + 1).UtcDateTime
        Wait-Until { [datetime]::UtcNow -gt $labelDeadline } -TimeoutSec 10 | Should -BeTrue

        $proxy = Start-FaultProxy -Arguments '--fail', 'GET /containers/[^/]+/archive'
        try {
            $work = New-Item -ItemType Directory -Force -Path (Join-Path $TestDrive 'failclosed')
            $resultFile = Join-Path $work 'result.json'
            $child = Start-ChildPwsh -WorkFolder $work -Script @"
`$env:DOCKER_HOST = '$($proxy.DockerHost)'
Import-Module `$env:SANDBOX_MODULE_PATH
`$removed = @(Stop-Sandbox -Expired -PassThru -Confirm:`$false -WarningVariable warnings -WarningAction SilentlyContinue)
@{ Removed = @(`$removed | ForEach-Object Name); Warnings = @(`$warnings | ForEach-Object { "`$_" }) } | ConvertTo-Json | Set-Content -LiteralPath '$resultFile'
"@
            $child.WaitForExit(60000) | Should -BeTrue
            $result = Get-Content -LiteralPath $resultFile -Raw | ConvertFrom-Json
            $result.Removed | Should -Not -Contain $sandbox.Name
            ($result.Warnings -join "`n") | Should -Match ([regex]::Escape($sandbox.Name))
            (docker inspect --format '{{.State.Running}}' $sandbox.Id) | Should -Be 'true'
            @(Get-ProxyLog $proxy | Where-Object { $_ -match "^FAIL GET /containers/$($sandbox.Id)/archive" }).Count | Should -BeGreaterOrEqual 3 -Because 'a failed read is asked again before the deadline counts as unknown'
        }
        finally {
            Stop-FaultProxy $proxy
            $sandbox | Stop-Sandbox -ErrorAction SilentlyContinue
        }
    }
}

Describe 'A moved deadline counts in every state' {
    It 'a paused sandbox that Set-Sandbox extended past its label deadline is not expired' {
        $sandbox = New-Sandbox -Name (New-TestName 'paused') -Timeout 3
        try {
            $sandbox | Set-Sandbox -Timeout 120
            $labelDeadline = [DateTimeOffset]::FromUnixTimeSeconds([long](Get-ContainerLabel $sandbox.Id 'io.sandbox.expires') + 1).UtcDateTime
            docker pause $sandbox.Id | Out-Null
            Wait-Until { [datetime]::UtcNow -gt $labelDeadline } -TimeoutSec 10 | Should -BeTrue
            $work = New-Item -ItemType Directory -Force -Path (Join-Path $TestDrive 'paused')
            $resultFile = Join-Path $work 'result.json'
            # Another process, which knows only the labels and the deadline file.
            $child = Start-ChildPwsh -WorkFolder $work -Script @"
Import-Module `$env:SANDBOX_MODULE_PATH
`$removed = @(Stop-Sandbox -Expired -PassThru -Confirm:`$false)
@{ Removed = @(`$removed | ForEach-Object Name) } | ConvertTo-Json | Set-Content -LiteralPath '$resultFile'
"@
            $child.WaitForExit(60000) | Should -BeTrue
            (Get-Content -LiteralPath $resultFile -Raw | ConvertFrom-Json).Removed | Should -Not -Contain $sandbox.Name
            Test-ContainerExists $sandbox.Id | Should -BeTrue
        }
        finally {
            docker unpause $sandbox.Id *> $null
            $sandbox | Stop-Sandbox -ErrorAction SilentlyContinue
        }
    }
}

Describe 'Pools keep their word' {
    It 'a hand-over that keeps failing gives a fresh sandbox with the deadline asked for, and says so' {
        $proxy = Start-FaultProxy -Arguments '--fail', 'PUT /containers/[^/]+/archive'
        $poolName = New-TestName 'pool'
        try {
            Start-SandboxPool -Name $poolName -Size 1 -Image (Get-TestImage) -DockerHost $proxy.DockerHost -Wait | Out-Null
            $sandbox = New-Sandbox -Image (Get-TestImage) -DockerHost $proxy.DockerHost -Timeout 60 -WarningVariable warnings -WarningAction SilentlyContinue
            try {
                ($warnings -join "`n") | Should -Match 'hand over'
                $sandbox.Pool | Should -BeNullOrEmpty -Because 'the member whose deadline could not be written is not handed out'
                $sandbox.ExpiresAt | Should -BeGreaterThan ([datetime]::UtcNow.AddSeconds(50))
                Get-ContainerLabel $sandbox.Id 'io.sandbox.timeout' | Should -Be '60'
            }
            finally { $sandbox | Stop-Sandbox -ErrorAction SilentlyContinue }
        }
        finally {
            Stop-SandboxPool -Name $poolName -ErrorAction SilentlyContinue
            Stop-FaultProxy $proxy
        }
    }
}

Describe 'Nothing leaks, nothing fails quietly' {
    It 'Ctrl+C during a create leaves no created-but-never-started container' {
        $proxy = Start-FaultProxy -Arguments '--hold-response', 'POST /containers/create', '--hold-seconds', '3'
        $name = New-TestName 'ctrlc'
        $shell = [powershell]::Create()
        try {
            $null = $shell.AddScript("Import-Module '$env:SANDBOX_MODULE_PATH'; New-Sandbox -Name '$name' -Image '$(Get-TestImage)' -DockerHost '$($proxy.DockerHost)' -Timeout 60")
            $running = $shell.BeginInvoke()
            Wait-Until { Test-ContainerExists $name } -TimeoutSec 30 | Should -BeTrue -Because 'the engine made the container while its answer is held back'
            $shell.Stop()
            Wait-Until { -not (Test-ContainerExists $name) } -TimeoutSec 20 | Should -BeTrue -Because 'a create that Ctrl+C cut off removes what it made'
        }
        finally {
            $shell.Dispose()
            Stop-FaultProxy $proxy
            docker rm -f -v $name *> $null
        }
    }

    It 'a command whose stream the link cuts while it runs ends in DockerEndpointUnavailable, not a result, and is stopped inside' {
        # The engine still answers new connections: only the exec's own stream breaks, as when a link drops one connection.
        $proxy = Start-FaultProxy -Arguments '--cut', 'POST /exec/[^/]+/start', '--cut-seconds', '1.5'
        $sandbox = $null
        try {
            $sandbox = New-Sandbox -Name (New-TestName 'cut') -Image (Get-TestImage) -DockerHost $proxy.DockerHost -Timeout 60
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $results = @($sandbox | Invoke-SandboxCommand 'echo started; sleep 30; echo never' -PassThru -ErrorVariable failures -ErrorAction SilentlyContinue)
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 10 -Because 'the command would have run 30 s'
            @(Get-ProxyLog $proxy | Where-Object { $_ -like 'CLOSED POST /exec/*/start' }).Count | Should -BeGreaterThan 0 -Because 'the proxy cut the stream'
            $results | Where-Object { $_ -is [Sandbox.SandboxCommandResult] } | Should -BeNullOrEmpty -Because 'there is no exit code to give'
            $results | Should -Contain 'started' -Because 'the output before the cut was streamed'
            @($failures) | Should -HaveCount 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'DockerEndpointUnavailable,*'
            $failures[0].Exception.Message | Should -Match 'broke while the command was running'
            # Stopped inside, as Ctrl+C stops a command: no 'sleep 30' is left in the sandbox.
            docker exec $sandbox.Id ps -o args | Where-Object { $_ -match '^sleep 30' } | Should -BeNullOrEmpty
        }
        finally {
            if ($sandbox) { $sandbox | Stop-Sandbox -ErrorAction SilentlyContinue }
            Stop-FaultProxy $proxy
        }
    }

    It 'a removal that keeps failing in the cleanup engine is reported as a warning and a Sandbox.RemovalFailed event' {
        $proxy = Start-FaultProxy -Arguments '--fail', 'DELETE /containers/[^/]+'
        Register-SandboxEvent Sandbox.RemovalFailed
        try {
            $sandbox = New-Sandbox -Name (New-TestName 'undead') -Image (Get-TestImage) -DockerHost $proxy.DockerHost -Timeout 2
            Wait-Until { (Get-SandboxEvent Sandbox.RemovalFailed $sandbox.Id).Count -ge 1 } -TimeoutSec 30 | Should -BeTrue
            $null = Get-Sandbox -Name 'no-such-sandbox-*' -WarningVariable warnings -WarningAction SilentlyContinue
            ($warnings -join "`n") | Should -Match ([regex]::Escape($sandbox.Name))

            # The engine answers again: the cleanup engine, still trying, finishes the job.
            Register-SandboxEvent Sandbox.Expired
            Stop-FaultProxy $proxy
            $proxy = Start-FaultProxy -Socket $proxy.Socket
            Wait-Until { @(Get-SandboxEvent Sandbox.Expired $sandbox.Id).Count -eq 1 } -TimeoutSec 60 | Should -BeTrue
        }
        finally {
            Unregister-SandboxEvent Sandbox.RemovalFailed
            Unregister-SandboxEvent Sandbox.Expired
            Stop-FaultProxy $proxy
        }
    }

    It 'deadline writers carry the module''s labels, and a sweep removes one whose sandbox is gone' {
        $sandbox = New-Sandbox -Name (New-TestName 'writer') -Timeout 60
        $volume = Get-ContainerLabel $sandbox.Id 'io.sandbox.deadline-volume'
        # What a crash between making a writer and removing it leaves behind.
        $writer = docker create --label "io.sandbox.helper-for=$($sandbox.Id)" -v "${volume}:/run/sandbox" (Get-TestImage) /bin/true
        # Checked while its sandbox exists: once the sandbox is gone, the cleanup engine's own background sweep may take
        # the writer at any moment, which is the behaviour under test too (Stop-Sandbox -Expired is the sweep on demand).
        Test-ContainerExists $writer | Should -BeTrue
        $sandbox | Stop-Sandbox
        Stop-Sandbox -Expired -Confirm:$false
        Test-ContainerExists $writer | Should -BeFalse
    }

    It 'a closed runspace is no longer held by the hook registry, nor its hooks' {
        $hooks = [Sandbox.Hosting.SandboxHooks]
        $count = { $hooks.GetProperty('AttachedCount', [Reflection.BindingFlags]'NonPublic,Static').GetValue($null) }
        $hookCount = { $hooks.GetProperty('HookCount', [Reflection.BindingFlags]'NonPublic,Static').GetValue($null) }
        $before = & $count
        $beforeHooks = & $hookCount
        $runspace = [runspacefactory]::CreateRunspace()
        $runspace.Open()
        $shell = [powershell]::Create()
        $shell.Runspace = $runspace
        $name = New-TestName 'closed'
        $null = $shell.AddScript("Import-Module '$env:SANDBOX_MODULE_PATH'; New-Sandbox -Name '$name' -Timeout 60 -OnKill { 'bye' } | Out-Null").Invoke()
        try {
            & $count | Should -Be ($before + 1)
            & $hookCount | Should -Be ($beforeHooks + 1)
            $runspace.Close()
            Wait-Until { (& $count) -eq $before -and (& $hookCount) -eq $beforeHooks } -TimeoutSec 10 | Should -BeTrue
        }
        finally {
            $shell.Dispose(); $runspace.Dispose()
            Stop-Sandbox -Name $name -ErrorAction SilentlyContinue
        }
    }

    It 'Remove-Module closes the SSH connections of the process' {
        $ssh = Get-TestEndpoints -Name Ssh
        $connections = { @(ss -tnpH state established "( dport = :$(([uri]$ssh.DockerHost).Port) )" | Where-Object { $_ -match "pid=$PID," }).Count }
        Use-TestEndpoint $ssh { Get-Sandbox -DockerHost $ssh.DockerHost | Out-Null }
        & $connections | Should -BeGreaterThan 0
        try {
            Remove-Module Sandbox
            Wait-Until { (& $connections) -eq 0 } -TimeoutSec 10 | Should -BeTrue
        }
        finally { Import-Module $env:SANDBOX_MODULE_PATH -Force -Global }
    }
}
