#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'life'

    function Get-EpochNow { [DateTimeOffset]::UtcNow.ToUnixTimeSeconds() }
}

AfterAll {
    Complete-SandboxTest
}

Describe 'Sandbox lifetimes' {

    Context 'deadline labels' {
        It 'labels the container with its expiry, timeout, owner and module version' {
            $before = Get-EpochNow
            $sandbox = New-Sandbox -Name (New-TestName 'labels') -Timeout 30
            $after = Get-EpochNow
            $labels = (Get-ContainerInspect $sandbox.Id).Config.Labels

            $labels.'io.sandbox.managed' | Should -Be 'true'
            [long]$labels.'io.sandbox.expires' | Should -BeGreaterOrEqual ($before + 29)
            [long]$labels.'io.sandbox.expires' | Should -BeLessOrEqual ($after + 31)
            $labels.'io.sandbox.timeout' | Should -Be '30'
            $labels.'io.sandbox.owner' | Should -BeLike "*:$PID"
            $labels.'io.sandbox.version' | Should -Not -BeNullOrEmpty

            $expiresAt = [DateTimeOffset]::FromUnixTimeSeconds([long]$labels.'io.sandbox.expires').UtcDateTime
            [math]::Abs(($sandbox.ExpiresAt - $expiresAt).TotalSeconds) | Should -BeLessThan 1.01
        }

        It 'defaults to a 300 s deadline' {
            $PSDefaultParameterValues = @{}   # the test setup's shorter default does not apply here
            $sandbox = New-Sandbox -Name (New-TestName 'default')
            $sandbox.TimeoutSec | Should -Be 300
            Get-ContainerLabel $sandbox.Id 'io.sandbox.timeout' | Should -Be '300'
            ($sandbox.ExpiresAt - [datetime]::UtcNow).TotalSeconds | Should -BeGreaterThan 290
            ($sandbox.ExpiresAt - [datetime]::UtcNow).TotalSeconds | Should -BeLessOrEqual 301
            $sandbox | Stop-Sandbox
        }

        It '-Timeout 0 means no deadline' {
            $sandbox = New-Sandbox -Name (New-TestName 'forever') -Timeout 0
            $sandbox.ExpiresAt | Should -BeNullOrEmpty
            $sandbox.TimeLeft | Should -BeNullOrEmpty
            Get-ContainerLabel $sandbox.Id 'io.sandbox.expires' | Should -Be '0'
            $sandbox | Stop-Sandbox
        }
    }

    Context 'expiry' {
        It 'removes a sandbox with -Timeout 5 within 8 s while the prompt is idle' {
            $name = New-TestName 'idle'
            $sandbox = New-Sandbox -Name $name -Timeout 5
            $created = Get-ContainerCreated $sandbox.Id

            # Idle: nothing but sleeping until the deadline.
            Wait-Until { -not (Test-ContainerExists $sandbox.Id) } -Deadline $created.AddSeconds(8) -IntervalMs 250 |
                Should -BeTrue -Because 'the sandbox must be gone (not in docker ps -a) 8 s after creation'
            ([datetime]::UtcNow - $created).TotalSeconds | Should -BeGreaterThan 4 -Because 'it must not die before its deadline'
            Get-Sandbox -Name $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'removes a sandbox with -Timeout 5 within 8 s after the pwsh that made it is killed' {
            $work = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'killed')
            $name = New-TestName 'orphan'
            $ready = Join-Path $work 'ready.txt'
            $child = Start-ChildPwsh -WorkFolder $work -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
`$sandbox = New-Sandbox -Name '$name' -Timeout 5
Set-Content -LiteralPath '$ready.tmp' -Value `$PID, `$sandbox.Id
Move-Item -LiteralPath '$ready.tmp' -Destination '$ready'
Start-Sleep -Seconds 120
"@
            # Only the container's own deadline may remove it here: with the module removed from this process,
            # no cleanup loop of ours can do the job in its place. (Imported again in finally.)
            Remove-Module Sandbox -Force
            try {
                Wait-Until { Test-Path -LiteralPath $ready } -TimeoutSec 30 |
                    Should -BeTrue -Because "the child pwsh should have made the sandbox: $(Get-ChildOutput $work)"
                $realPid, $id = Get-Content -LiteralPath $ready
                $created = Get-ContainerCreated $id

                Stop-Process -Id $realPid -Force          # SIGKILL: no cleanup code runs in the child
                Wait-Until { -not (Get-Process -Id $realPid -ErrorAction SilentlyContinue) } -TimeoutSec 5 | Should -BeTrue
                ([datetime]::UtcNow - $created).TotalSeconds | Should -BeLessThan 5 -Because 'the child must die before the deadline'
                Test-ContainerExists $id | Should -BeTrue

                Wait-Until { -not (Test-ContainerExists $id) } -Deadline $created.AddSeconds(8) -IntervalMs 250 |
                    Should -BeTrue -Because 'the sandbox must be gone 8 s after creation although its pwsh was killed'
            }
            finally {
                if (-not $child.HasExited) { $child.Kill($true) }
                Import-Module $env:SANDBOX_MODULE_PATH -Global -Force
            }
        }
    }
}
