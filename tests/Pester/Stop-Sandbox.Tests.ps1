#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'stop'
    $prefix = Get-TestPrefix
}

AfterAll {
    Complete-SandboxTest
}

Describe 'Stop-Sandbox' {

    Context 'choosing what to stop' {
        It 'stops and removes a piped sandbox' {
            $sandbox = New-Sandbox -Name (New-TestName 'pipe')
            $sandbox | Stop-Sandbox
            Test-ContainerExists $sandbox.Id | Should -BeFalse
        }

        It 'stops a sandbox by -Id' {
            $sandbox = New-Sandbox -Name (New-TestName 'id')
            Stop-Sandbox -Id $sandbox.Id
            Test-ContainerExists $sandbox.Id | Should -BeFalse
        }

        It 'stops a sandbox by -Name' {
            $sandbox = New-Sandbox -Name (New-TestName 'name')
            Stop-Sandbox -Name $sandbox.Name
            Test-ContainerExists $sandbox.Id | Should -BeFalse
        }

        It 'stops the sandbox of a project by -ProjectId' {
            $project = New-TestProjectId 'stop'
            $sandbox = New-Sandbox -Name (New-TestName 'project') -ProjectId $project -Path $TestDrive
            $other = New-Sandbox -Name (New-TestName 'bystander')
            Stop-Sandbox -ProjectId $project
            Test-ContainerExists $sandbox.Id | Should -BeFalse
            Test-ContainerExists $other.Id | Should -BeTrue
        }

        It 'binds Id by property name' {
            $sandbox = New-Sandbox -Name (New-TestName 'byprop')
            [pscustomobject]@{ Id = $sandbox.Id } | Stop-Sandbox
            Test-ContainerExists $sandbox.Id | Should -BeFalse
        }

        It 'stops what Get-Sandbox finds' {
            $first = New-Sandbox -Name "$prefix-found-1"
            $second = New-Sandbox -Name "$prefix-found-2"
            Get-Sandbox -Name "$prefix-found-*" | Stop-Sandbox
            Test-ContainerExists $first.Id | Should -BeFalse
            Test-ContainerExists $second.Id | Should -BeFalse
            Get-Sandbox -Name "$prefix-found-*" | Should -BeNullOrEmpty
        }

        It 'writes SandboxNotFound for a name that does not exist and goes on' {
            $missing = New-TestName 'missing'
            $sandbox = New-Sandbox -Name (New-TestName 'after-missing')
            Stop-Sandbox -Name $missing, $sandbox.Name -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'SandboxNotFound*'
            $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $errors[0].TargetObject | Should -Be $missing
            Test-ContainerExists $sandbox.Id | Should -BeFalse
        }
    }

    Context '-WhatIf and -PassThru' {
        It 'removes nothing with -WhatIf' {
            $sandbox = New-Sandbox -Name (New-TestName 'whatif')
            $sandbox | Stop-Sandbox -WhatIf
            Stop-Sandbox -Name $sandbox.Name -WhatIf
            (Get-ContainerInspect $sandbox.Id).State.Running | Should -BeTrue
        }

        It 'emits nothing without -PassThru' {
            $sandbox = New-Sandbox -Name (New-TestName 'quiet')
            $sandbox | Stop-Sandbox | Should -BeNullOrEmpty
        }

        It 'emits the stopped sandbox with -PassThru' {
            $sandbox = New-Sandbox -Name (New-TestName 'passthru')
            $stopped = $sandbox | Stop-Sandbox -PassThru
            $stopped | Should -HaveCount 1
            $stopped.PSObject.TypeNames[0] | Should -Be 'Sandbox.Sandbox'
            $stopped.Id | Should -Be $sandbox.Id
            Test-ContainerExists $sandbox.Id | Should -BeFalse
        }
    }

    Context '-All' {
        BeforeAll {
            $foreign = "$prefix-foreign"
            docker run -d --name $foreign (Get-TestImage) sleep 300 | Out-Null
        }

        It 'removes every sandbox of the module and leaves other containers running' {
            $first = New-Sandbox -Name (New-TestName 'all')
            $second = New-Sandbox -Name (New-TestName 'all')

            Stop-Sandbox -All -Confirm:$false

            Test-ContainerExists $first.Id | Should -BeFalse
            Test-ContainerExists $second.Id | Should -BeFalse
            Get-ManagedContainerName -Like "$prefix-*" | Should -BeNullOrEmpty
            (Get-ContainerInspect $foreign).State.Running | Should -BeTrue
        }

        It 'removes nothing with -WhatIf' {
            $sandbox = New-Sandbox -Name (New-TestName 'allwhatif')
            Stop-Sandbox -All -WhatIf
            (Get-ContainerInspect $sandbox.Id).State.Running | Should -BeTrue
        }
    }

    Context '-Expired' {
        It 'removes sandboxes whose deadline has passed and keeps the others' {
            $live = New-Sandbox -Name (New-TestName 'live') -Timeout 300
            # A sandbox whose deadline passed while no cleanup ran (its process was killed, its in-container
            # timer did not fire): made by hand with the module's labels and an expiry in the past.
            $past = [DateTimeOffset]::UtcNow.AddMinutes(-5).ToUnixTimeSeconds()
            $expired = New-TestName 'expired'
            docker run -d --name $expired --label io.sandbox.managed=true --label "io.sandbox.expires=$past" `
                --label io.sandbox.timeout=60 --label 'io.sandbox.owner=elsewhere:1' --label io.sandbox.workdir=/workspace `
                (Get-TestImage) sleep 300 | Out-Null

            Stop-Sandbox -Expired -Confirm:$false

            Test-ContainerExists $expired | Should -BeFalse
            (Get-ContainerInspect $live.Id).State.Running | Should -BeTrue
        }
    }
}
