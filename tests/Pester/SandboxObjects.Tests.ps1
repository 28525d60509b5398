#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Objects that tell the truth after the sandbox is gone, and that serialize well for scripts.

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'objs'
}

AfterAll {
    Complete-SandboxTest
}

Describe 'The state of a sandbox object' {

    It 'reads removed, with no time left, after its deadline removed it: the object New-Sandbox gave and one Get-Sandbox gave' {
        $name = New-TestName 'deadline'
        $sandbox = New-Sandbox -Name $name -Timeout 4
        $listed = Get-Sandbox -Name $name
        $listed.State | Should -Be 'running'
        $listed.TimeLeft | Should -BeGreaterThan ([timespan]::Zero)

        Wait-Until { -not (Test-ContainerExists $sandbox.Id) } -TimeoutSec 30 | Should -BeTrue -Because 'the deadline removes the sandbox'
        # The container is gone; this session's cleanup engine (which removed it, or found it gone) marks it a moment later.
        Wait-Until { $sandbox.State -eq 'removed' -and $listed.State -eq 'removed' } -TimeoutSec 10 |
            Should -BeTrue -Because "every object of a sandbox this session removed reads removed (now '$($sandbox.State)' and '$($listed.State)')"
        foreach ($object in $sandbox, $listed) {
            $object.TimeLeft | Should -Be ([timespan]::Zero)
            $object.TimeLeftSec | Should -Be 0
            $object.EngineState | Should -Be 'running' -Because 'EngineState keeps what the engine said when the object was read'
        }
    }

    It 'reads removed with zero time left from Stop-Sandbox -PassThru, and so does every other object of it' {
        $name = New-TestName 'stopped'
        $sandbox = New-Sandbox -Name $name -Timeout 120
        $listed = Get-Sandbox -Name $name
        $stopped = Stop-Sandbox -Name $name -PassThru
        $stopped.State | Should -Be 'removed'
        foreach ($object in $stopped, $sandbox, $listed) {
            $object.State | Should -Be 'removed'
            $object.TimeLeft | Should -Be ([timespan]::Zero)
            $object.TimeLeftSec | Should -Be 0
        }
        $row = $stopped | Format-Table | Out-String -Width 300
        $line = @($row -split '\r?\n' | Where-Object { $_ -like "*$name*" })
        $line | Should -HaveCount 1
        $line[0] | Should -Match "$([regex]::Escape($name)).*\sremoved\b" -Because 'the time-left column shows the state of a sandbox that is not running'
        $line[0] | Should -Not -Match '\d\d:\d\d:\d\d' -Because 'a removed sandbox has no time left to show'
    }

    It 'has no deadline to count when it has none, until it is removed' {
        $sandbox = New-Sandbox -Name (New-TestName 'forever') -Timeout 0
        $sandbox.TimeLeft | Should -BeNullOrEmpty
        $sandbox.TimeLeftSec | Should -BeNullOrEmpty
        $sandbox | Stop-Sandbox
        $sandbox.TimeLeftSec | Should -Be 0
    }
}

Describe 'Objects in JSON' {

    BeforeAll {
        $script:Sandbox = New-Sandbox -Name (New-TestName 'json') -Timeout 120 -Port 8080
        $script:Result = $Sandbox | Invoke-SandboxCommand 'echo hi' -PassThru | Select-Object -Last 1
    }

    It 'a sandbox has its time left as a plain number of seconds, and no internal parts' {
        $json = $Sandbox | ConvertTo-Json -WarningVariable warnings 3>$null
        $warnings | Should -BeNullOrEmpty -Because 'one sandbox fits the default depth'
        $parsed = $json | ConvertFrom-Json
        $parsed.TimeLeftSec | Should -BeOfType ([long])
        $parsed.TimeLeftSec | Should -BeGreaterThan 60
        $parsed.TimeLeftSec | Should -BeLessOrEqual 120
        $parsed.TimeoutSec | Should -Be 120
        $parsed.State | Should -Be 'running'
        $parsed.WorkspaceMode | Should -Be 'Empty'
        $parsed.PSObject.Properties.Name | Should -Not -Contain 'Endpoint'
        $parsed.Ports[0].ContainerPort | Should -Be 8080
    }

    It 'a list of sandboxes serializes whole with -Depth 3, as about_Sandbox says' {
        $other = New-Sandbox -Name (New-TestName 'json2') -Timeout 120
        $json = Get-Sandbox -Name $Sandbox.Name, $other.Name | ConvertTo-Json -Depth 3 -WarningVariable warnings 3>$null
        $warnings | Should -BeNullOrEmpty
        $parsed = $json | ConvertFrom-Json
        $parsed | Should -HaveCount 2
        ($parsed | Where-Object Name -EQ $Sandbox.Name).Ports[0].ContainerPort | Should -Be 8080
        $parsed.TimeLeftSec | ForEach-Object { $_ | Should -BeGreaterThan 0 }
    }

    It 'a command result has its duration as a plain number of seconds' {
        $json = $Result | ConvertTo-Json -WarningVariable warnings 3>$null
        $warnings | Should -BeNullOrEmpty
        $parsed = $json | ConvertFrom-Json
        $parsed.DurationSec | Should -BeOfType ([double])
        $parsed.DurationSec | Should -BeGreaterThan 0
        [math]::Abs($parsed.DurationSec - $Result.Duration.TotalSeconds) | Should -BeLessThan 0.001
        $parsed.StdOut | Should -BeExactly "hi`n"
        $parsed.ExitCode | Should -Be 0
    }
}

Describe 'A command result in a string' {

    BeforeAll {
        $script:Sandbox = New-Sandbox -Name (New-TestName 'str') -Timeout 120
    }

    It 'reads like captured output: no line ending at the end' {
        $result = $Sandbox | Invoke-SandboxCommand 'echo hi' -PassThru | Select-Object -Last 1
        "$result" | Should -BeExactly 'hi'
        "[$result]" | Should -BeExactly '[hi]'
        [string]$result | Should -BeExactly 'hi'
    }

    It 'keeps the lines inside, and StdOut keeps the output exactly' {
        $result = $Sandbox | Invoke-SandboxCommand "printf 'a\nb\n\n'" -PassThru | Select-Object -Last 1
        "$result" | Should -BeExactly "a`nb"
        $result.StdOut | Should -BeExactly "a`nb`n`n"
    }
}
