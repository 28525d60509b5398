#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Get-SandboxEvent against the real engine: the stream (-Wait) shows what happens to sandboxes as it happens (an OOM
# kill, a command, an expiry, a removal, a pause and unpause by the docker CLI) and stops at once; without -Wait it gives
# the events since -Since and ends; a sandbox another process made is there too.

BeforeDiscovery {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'event'
    Assert-TestEndpoint

    # A Get-SandboxEvent -Wait in a runspace of its own; $Script's first parameter is the module path.
    function Start-EventWatch([scriptblock] $Script, [object[]] $Arguments) {
        $shell = [PowerShell]::Create()
        $null = $shell.AddScript($Script).AddArgument((Get-SandboxModulePath))
        foreach ($argument in $Arguments) { $null = $shell.AddArgument($argument) }
        $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
        [pscustomobject]@{ Shell = $shell; Output = $output; Running = $shell.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]$null, $output) }
    }

    # PSDataCollection enumerates until it is closed: take what is there by index.
    function Get-Taken($Collection) { @(for ($i = 0; $i -lt $Collection.Count; $i++) { $Collection[$i] }) }

    # For a failure's message: the sandbox's events as the engine still holds them (the local socket, with the docker CLI),
    # and the engine clock offsets this process uses; tells a lost event from a wrong time window.
    function Get-EngineView($Box) {
        $until = ([DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000).ToString('0.000', [cultureinfo]::InvariantCulture)
        $held = @(docker events --since ([DateTimeOffset]$Box.CreatedAt).AddSeconds(-5).ToUnixTimeSeconds() --until $until `
                --filter "container=$($Box.Id)" --format '{{.Action}}' 2>&1)
        $offsets = [Sandbox.Lifecycle.EngineClock].GetField('Offsets', [Reflection.BindingFlags]'NonPublic,Static').GetValue($null)
        "the engine still holds $($held -join ', ') for it; the engine clock offsets in use: $(@($offsets.GetEnumerator() | ForEach-Object { "$($_.Key) $($_.Value)" }) -join '; ')"
    }

    function Wait-Event($Watch, [string] $Name, [string] $Kind, [double] $TimeoutSec = 20) {
        Wait-Until { @(Get-Taken $Watch.Output | Where-Object { $_.Name -eq $Name -and $_.Kind -eq $Kind }).Count -ge 1 } -TimeoutSec $TimeoutSec
    }
}

AfterAll {
    Complete-SandboxTest
}

Describe 'Get-SandboxEvent -Wait on <Name>' -ForEach (Get-TestEndpoints) {
    BeforeAll {
        $endpoint = $_
        $suffix = $endpoint.Name.ToLowerInvariant()
        # The watch reads the endpoint's environment (TLS files, ssh home) when it starts, in its own runspace: the
        # environment stays until the stream shows a sandbox made after it, which also says that it is listening.
        $watch = Use-TestEndpoint $endpoint {
            # From a moment ago: the runspace may still be importing the module when the first sandbox is made (a slow
            # machine), and the engine replays what happened since then before it streams.
            $since = [datetime]::UtcNow.AddSeconds(-1)
            $started = Start-EventWatch { param($module, $dockerHost, $pattern, $since) Import-Module $module; Get-SandboxEvent -Wait -Since $since -DockerHost $dockerHost -Name $pattern } $DockerHost, "$(Get-TestPrefix)-*", $since
            $first = New-Sandbox -DockerHost $DockerHost -Name (New-TestName "first-$suffix") -ErrorAction Stop
            Wait-Until { @(Get-Taken $started.Output | Where-Object Id -EQ $first.Id).Count -ge 1 } -TimeoutSec 20 | Should -BeTrue
            $started
        }
    }

    AfterAll {
        if ($watch) { $watch.Shell.Stop(); $watch.Shell.Dispose() }
    }

    It 'streams created, started, a command run and a removal as they happen' {
        $box = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Name (New-TestName "cmd-$suffix") -ErrorAction Stop }
        Use-TestEndpoint $endpoint { $box | Invoke-SandboxCommand 'echo event-test-marker' } | Should -Be 'event-test-marker'
        Use-TestEndpoint $endpoint { $box | Stop-Sandbox -Confirm:$false }
        Wait-Event $watch $box.Name removed | Should -BeTrue
        $seen = @(Get-Taken $watch.Output | Where-Object Id -EQ $box.Id)
        $seen.Kind | Should -Contain 'created'
        $seen.Kind | Should -Contain 'started'
        $seen.Kind | Should -Contain 'command'
        ($seen | Where-Object Kind -EQ 'command' | Where-Object Detail -Like '*echo event-test-marker*') | Should -Not -BeNullOrEmpty
        ($seen | Where-Object Kind -EQ 'died').ExitCode | Should -Be 137
        $seen[0].PSObject.TypeNames[0] | Should -Be 'Sandbox.SandboxEvent'
        $seen[0].DockerHost | Should -Be $DockerHost
        # In the order they happened.
        $kinds = @($seen.Kind | Where-Object { $_ -in 'created', 'started', 'died', 'removed' })
        $kinds | Should -Be 'created', 'started', 'died', 'removed'
    }

    It 'streams an OOM kill in a sandbox with -Memory 16MB' {
        $box = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Name (New-TestName "oom-$suffix") -Memory 16MB -ErrorAction Stop }
        # The kernel picks what it kills (tail, as a rule): what the command prints does not matter here.
        Use-TestEndpoint $endpoint { $box | Invoke-SandboxCommand 'head -c 100m /dev/zero | tail' -ErrorAction SilentlyContinue 2>$null } | Out-Null
        Wait-Event $watch $box.Name oom | Should -BeTrue
        (Get-Taken $watch.Output | Where-Object { $_.Id -eq $box.Id -and $_.Kind -eq 'oom' })[0].Action | Should -Be 'oom'
    }

    It 'streams an expiry (the deadline guard ends the sandbox) apart from a death' {
        $box = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Name (New-TestName "exp-$suffix") -Timeout 3 -ErrorAction Stop }
        Wait-Event $watch $box.Name expired -TimeoutSec 15 | Should -BeTrue
        $expired = Get-Taken $watch.Output | Where-Object { $_.Id -eq $box.Id -and $_.Kind -eq 'expired' }
        # The deadline guard's exit (0), or this process's cleanup engine removing it at the deadline first (137).
        $expired.ExitCode | Should -BeIn 0, 137
        Get-Taken $watch.Output | Where-Object { $_.Id -eq $box.Id -and $_.Kind -eq 'died' } | Should -BeNullOrEmpty
        Wait-Event $watch $box.Name removed | Should -BeTrue
    }

    It 'streams suspended and resumed for docker pause and unpause' {
        $box = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Name (New-TestName "pause-$suffix") -ErrorAction Stop }
        docker pause $box.Id | Out-Null
        docker unpause $box.Id | Out-Null
        Wait-Event $watch $box.Name resumed | Should -BeTrue
        $kinds = @(Get-Taken $watch.Output | Where-Object Id -EQ $box.Id | ForEach-Object Kind)
        $kinds | Should -Contain 'suspended'
        [array]::IndexOf($kinds, 'suspended') | Should -BeLessThan ([array]::IndexOf($kinds, 'resumed'))
    }

    It 'includes a sandbox that another process made' {
        $name = New-TestName "other-$suffix"
        $child = Start-ChildPwsh -WorkFolder $TestDrive -Script @"
Import-Module `$env:SANDBOX_MODULE_PATH
New-Sandbox -DockerHost 'unix:///var/run/docker.sock' -Name '$name' -Timeout 60 | Out-Null
"@
        $child.WaitForExit(60000) | Should -BeTrue
        Wait-Event $watch $name started | Should -BeTrue
    }

    It 'ends at once on Stop (Ctrl+C)' {
        # Listening (with the endpoint's environment until then): the stream has shown a sandbox made just before it.
        $other = Use-TestEndpoint $endpoint {
            $marker = New-Sandbox -DockerHost $DockerHost -Name (New-TestName "stop-$suffix") -ErrorAction Stop
            $started = Start-EventWatch { param($module, $dockerHost, $since) Import-Module $module; Get-SandboxEvent -Wait -DockerHost $dockerHost -Since $since } $DockerHost, $marker.CreatedAt.AddSeconds(-2)
            Wait-Until { @(Get-Taken $started.Output | Where-Object Id -EQ $marker.Id).Count -ge 1 } -TimeoutSec 20 | Should -BeTrue
            $started
        }
        try {
            $other.Running.IsCompleted | Should -BeFalse
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $other.Shell.Stop()
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 1
            $other.Running.IsCompleted | Should -BeTrue
            $other.Shell.Streams.Error | Should -BeNullOrEmpty
        } finally { $other.Shell.Dispose() }
    }
}

Describe 'Get-SandboxEvent without -Wait on <Name>' -ForEach (Get-TestEndpoints) {
    BeforeAll {
        $endpoint = $_
        $suffix = $endpoint.Name.ToLowerInvariant()
        # A second early: a remote engine's clock offset is known to some tens of milliseconds.
        $start = (Get-Date).AddSeconds(-1)
        $box = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Name (New-TestName "past-$suffix") -ErrorAction Stop }
        Use-TestEndpoint $endpoint { $box | Invoke-SandboxCommand 'true' } | Out-Null
        Use-TestEndpoint $endpoint { $box | Stop-Sandbox -Confirm:$false }
    }

    It 'gives the events since -Since and ends' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $events = @(Use-TestEndpoint $endpoint { Get-SandboxEvent -DockerHost $DockerHost -Since $start -ErrorAction Stop })
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
        $mine = @($events | Where-Object Id -EQ $box.Id)
        $mine.Kind | Should -Be 'created', 'started', 'command', 'died', 'removed' -Because (Get-EngineView $box)
        $mine[0].Time | Should -BeGreaterOrEqual $start.ToUniversalTime().AddSeconds(-1)
    }

    It 'defaults to the last hour, and filters by -Name, -Id and -Kind' {
        $byName = @(Use-TestEndpoint $endpoint { Get-SandboxEvent -DockerHost $DockerHost -Name $box.Name -ErrorAction Stop })
        $byName.Kind | Should -Be 'created', 'started', 'command', 'died', 'removed' -Because (Get-EngineView $box)
        $byId = @(Use-TestEndpoint $endpoint { Get-SandboxEvent -DockerHost $DockerHost -Id $box.ShortId -Kind removed -ErrorAction Stop })
        $byId.Count | Should -Be 1
        $byId[0].Name | Should -Be $box.Name
    }

    It 'gives nothing before -Until' {
        @(Use-TestEndpoint $endpoint { Get-SandboxEvent -DockerHost $DockerHost -Name $box.Name -Since $start.AddMinutes(-5) -Until $start.AddMinutes(-4) -ErrorAction Stop }).Count | Should -Be 0
    }
}

Describe 'Get-SandboxEvent without -Wait on <Name>, the engine clock offset off by seconds' -ForEach (Get-TestEndpoints -Name Ssh, Tls) {
    It 'still ends with the removal that Stop-Sandbox has just made: "until now" is read on the engine''s clock' {
        $endpoint = $_
        Use-TestEndpoint $endpoint {
            $box = New-Sandbox -DockerHost $DockerHost -Name (New-TestName "skew-$($endpoint.Name.ToLowerInvariant())") -ErrorAction Stop
            # The offset this process measured for the engine, replaced for this test by one 5 s off.
            $offsets = [Sandbox.Lifecycle.EngineClock].GetField('Offsets', [Reflection.BindingFlags]'NonPublic,Static').GetValue($null)
            $key = @($offsets.Keys | Where-Object { $_ -like "$DockerHost|*" })
            $key | Should -HaveCount 1 -Because "New-Sandbox measured the offset of $DockerHost"
            $measured = $offsets[$key[0]]
            try {
                $offsets[$key[0]] = $measured - [TimeSpan]::FromSeconds(5)
                $box | Stop-Sandbox -Confirm:$false
                @(Get-SandboxEvent -DockerHost $DockerHost -Name $box.Name -ErrorAction Stop).Kind | Should -Be 'created', 'started', 'died', 'removed'
            }
            finally { $offsets[$key[0]] = $measured }
        }
    }
}

Describe 'Get-SandboxEvent input and view' {
    It 'refuses -Until before -Since' {
        { Get-SandboxEvent -Since (Get-Date) -Until (Get-Date).AddMinutes(-1) -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidTimeRange*'
    }

    It 'fits 80 columns' {
        $box = New-Sandbox -Name (New-TestName 'view') -ErrorAction Stop
        $box | Invoke-SandboxCommand 'echo a long command line that goes on and on and on and on and on and on' | Out-Null
        $lines = @((Get-SandboxEvent -Name $box.Name | Out-String -Width 80) -split "`r?`n" | Where-Object { $_.Trim() })
        $lines | Where-Object { $_.Length -gt 80 } | Should -BeNullOrEmpty
        $lines -match '^Time\s+Name\s+Kind\s+Detail$' | Should -Not -BeNullOrEmpty
        $lines -match '\bcommand\s+/bin/sh -c echo a long' | Should -Not -BeNullOrEmpty
    }
}
