#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'get'

    $prefix = Get-TestPrefix
    $project = New-TestProjectId 'get'
    $code = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'code')
    $alpha = New-Sandbox -Name "$prefix-alpha" -ProjectId $project -Path $code -Port '8080'
    $beta = New-Sandbox -Name "$prefix-beta"
    # A container this module did not make, with a name that matches the test's wildcards.
    docker run -d --name "$prefix-foreign" (Get-TestImage) sleep 300 | Out-Null
}

AfterAll {
    Complete-SandboxTest
}

Describe 'Get-Sandbox' {

    It 'lists the sandboxes on the engine as Sandbox objects' {
        $found = Get-Sandbox | Where-Object Name -Like "$prefix-*"
        $found.Name | Sort-Object | Should -Be "$prefix-alpha", "$prefix-beta"
        $found[0].PSObject.TypeNames[0] | Should -Be 'Sandbox.Sandbox'
    }

    It 'never lists containers the module did not make' {
        (Get-Sandbox).Name | Should -Not -Contain "$prefix-foreign"
        Get-Sandbox -Name "$prefix-*" | ForEach-Object Name | Should -Not -Contain "$prefix-foreign"
    }

    It 'describes a sandbox as New-Sandbox did' {
        $found = Get-Sandbox -Name "$prefix-alpha"
        $found.Id | Should -Be $alpha.Id
        $found.ProjectId | Should -Be $project
        $found.Image | Should -Be $alpha.Image
        $found.State | Should -Be 'running'
        $found.WorkingDirectory | Should -Be '/workspace'
        $found.TimeoutSec | Should -Be $alpha.TimeoutSec
        [math]::Abs(($found.ExpiresAt - $alpha.ExpiresAt).TotalSeconds) | Should -BeLessOrEqual 1
        [math]::Abs(($found.CreatedAt - $alpha.CreatedAt).TotalSeconds) | Should -BeLessOrEqual 1
        $found.Ports[0].ContainerPort | Should -Be 8080
        $found.Ports[0].HostPort | Should -Be $alpha.Ports[0].HostPort
        $found.Limits.MemoryBytes | Should -Be $alpha.Limits.MemoryBytes
    }

    Context '-Name' {
        It 'matches a literal name (also by position)' {
            (Get-Sandbox "$prefix-beta").Id | Should -Be $beta.Id
        }

        It 'matches wildcards' {
            (Get-Sandbox -Name "$prefix-*").Name | Sort-Object | Should -Be "$prefix-alpha", "$prefix-beta"
            (Get-Sandbox -Name "$prefix-a*").Name | Should -Be "$prefix-alpha"
        }

        It 'writes a non-terminating SandboxNotFound for a literal name that matches nothing' {
            $missing = "$prefix-nope"
            $found = Get-Sandbox -Name $missing, "$prefix-beta" -ErrorVariable errors -ErrorAction SilentlyContinue
            $found.Id | Should -Be $beta.Id   # the next name is still served
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'SandboxNotFound*'
            $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $errors[0].TargetObject | Should -Be $missing
        }

        It 'is silent when a wildcard matches nothing' {
            $found = Get-Sandbox -Name "$prefix-zzz*" -ErrorVariable errors
            $found | Should -BeNullOrEmpty
            $errors | Should -BeNullOrEmpty
        }
    }

    Context '-DockerHost' {
        It 'lists the sandboxes of the engine it names' {
            $found = Get-Sandbox -Name "$prefix-beta" -DockerHost 'unix:///var/run/docker.sock'
            $found.Id | Should -Be $beta.Id
            $found.DockerHost | Should -Be 'unix:///var/run/docker.sock'
        }

        It 'reports DockerEndpointUnavailable for an engine that does not answer' {
            $nowhere = 'unix://{0}' -f (Join-Path $TestDrive 'no-engine.sock')
            $err = { Get-Sandbox -DockerHost $nowhere -ErrorAction Stop } |
                Should -Throw -ErrorId 'DockerEndpointUnavailable*' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ConnectionError'
        }
    }

    Context '-Id and -ProjectId' {
        It 'finds a sandbox by full id and by short id' {
            (Get-Sandbox -Id $beta.Id).Name | Should -Be "$prefix-beta"
            (Get-Sandbox -Id $beta.ShortId).Name | Should -Be "$prefix-beta"
        }

        It 'writes SandboxNotFound for an id that does not exist' {
            $missing = 'f' * 64
            Get-Sandbox -Id $missing -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'SandboxNotFound*'
            $errors[0].TargetObject | Should -Be $missing
        }

        It 'finds the sandbox of a project' {
            $found = Get-Sandbox -ProjectId $project
            $found | Should -HaveCount 1
            $found.Id | Should -Be $alpha.Id
        }

        It 'writes SandboxNotFound for a project without a sandbox' {
            $missing = New-TestProjectId 'empty'
            Get-Sandbox -ProjectId $missing -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'SandboxNotFound*'
            $errors[0].TargetObject | Should -Be $missing
        }
    }
}
