#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'new'
}

AfterAll {
    Complete-SandboxTest
}

Describe 'New-Sandbox' {

    Context 'the Sandbox object' {
        BeforeAll {
            $name = New-TestName 'props'
            $startedAt = [datetime]::UtcNow
            $sandbox = New-Sandbox -Name $name
            $inspect = Get-ContainerInspect $name
        }

        It 'returns a Sandbox.Sandbox' {
            $sandbox | Should -HaveCount 1
            $sandbox.PSObject.TypeNames[0] | Should -Be 'Sandbox.Sandbox'
        }

        It 'has the documented properties' {
            $documented = 'Id', 'ShortId', 'Name', 'ProjectId', 'Image', 'State', 'DockerHost', 'CreatedAt', 'ExpiresAt',
                'TimeoutSec', 'TimeLeft', 'Ports', 'WorkingDirectory', 'Limits', 'Labels', 'CodePath'
            $names = $sandbox.PSObject.Properties.Name
            foreach ($property in $documented) { $names | Should -Contain $property }
        }

        It 'describes the container the engine runs' {
            $sandbox.Id | Should -Be $inspect.Id
            $sandbox.ShortId | Should -Be $inspect.Id.Substring(0, 12)
            $sandbox.Name | Should -Be $name
            $inspect.Name | Should -Be "/$name"
            $sandbox.Image | Should -Be (Get-TestImage)
            $sandbox.State | Should -Be 'running'
            $inspect.State.Running | Should -BeTrue
            $sandbox.WorkingDirectory | Should -Be '/workspace'
            $inspect.Config.WorkingDir | Should -Be '/workspace'
            $sandbox.DockerHost | Should -Not -BeNullOrEmpty
            $sandbox.ProjectId | Should -BeNullOrEmpty
            @($sandbox.Ports) | Should -HaveCount 0
            $sandbox.Labels['io.sandbox.managed'] | Should -Be 'true'
        }

        It 'has UTC times and a deadline TimeoutSec after creation' {
            $sandbox.CreatedAt.Kind | Should -Be 'Utc'
            $sandbox.CreatedAt | Should -BeGreaterThan $startedAt.AddSeconds(-5)
            $sandbox.CreatedAt | Should -BeLessThan ([datetime]::UtcNow.AddSeconds(5))
            $sandbox.TimeoutSec | Should -Be 120   # from $PSDefaultParameterValues set by the test setup
            $sandbox.ExpiresAt.Kind | Should -Be 'Utc'
            ($sandbox.ExpiresAt - $sandbox.CreatedAt).TotalSeconds | Should -BeGreaterOrEqual 118
            ($sandbox.ExpiresAt - $sandbox.CreatedAt).TotalSeconds | Should -BeLessOrEqual 122
            $sandbox.TimeLeft | Should -BeOfType ([timespan])
            $sandbox.TimeLeft.TotalSeconds | Should -BeGreaterThan 100
        }

        It 'has a table view that shows the name' {
            Get-FormatData -TypeName 'Sandbox.Sandbox' | Should -Not -BeNullOrEmpty
            $sandbox | Format-Table | Out-String | Should -Match ([regex]::Escape($name))
        }

        It 'creates nothing with -WhatIf' {
            $whatIfName = New-TestName 'whatif'
            $result = New-Sandbox -Name $whatIfName -WhatIf
            $result | Should -BeNullOrEmpty
            Test-ContainerExists $whatIfName | Should -BeFalse
        }
    }

    Context 'code folders' {
        It '-Path bind-mounts the folder read-write at /workspace' {
            $code = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'mounted')
            Set-Content -LiteralPath (Join-Path $code 'from-host.txt') -Value 'written on the host'
            $sandbox = New-Sandbox -Name (New-TestName 'path') -Path $code

            $mount = (Get-ContainerInspect $sandbox.Id).Mounts | Where-Object Destination -EQ '/workspace'
            $mount.Type | Should -Be 'bind'
            $mount.Source | Should -Be $code.FullName
            $mount.RW | Should -BeTrue
            $sandbox.CodePath | Should -Be $code.FullName

            $sandbox | Invoke-SandboxCommand 'cat /workspace/from-host.txt' | Should -Be 'written on the host'
            $sandbox | Invoke-SandboxCommand 'echo written inside > /workspace/from-sandbox.txt'
            Get-Content -LiteralPath (Join-Path $code 'from-sandbox.txt') | Should -Be 'written inside'
            Set-Content -LiteralPath (Join-Path $code 'from-host.txt') -Value 'changed on the host'
            $sandbox | Invoke-SandboxCommand 'cat /workspace/from-host.txt' | Should -Be 'changed on the host'
        }

        It '-CopyPath copies the folder in instead of mounting it' {
            $code = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'copied')
            New-Item -ItemType Directory -Path (Join-Path $code 'src') | Out-Null
            Set-Content -LiteralPath (Join-Path $code 'src/main.sh') -Value 'echo original'
            $sandbox = New-Sandbox -Name (New-TestName 'copypath') -Path $code -CopyPath

            (Get-ContainerInspect $sandbox.Id).Mounts | Where-Object Destination -EQ '/workspace' | Should -BeNullOrEmpty
            $sandbox | Invoke-SandboxCommand 'sh /workspace/src/main.sh' | Should -Be 'original'

            Set-Content -LiteralPath (Join-Path $code 'src/main.sh') -Value 'echo changed'
            $sandbox | Invoke-SandboxCommand 'sh /workspace/src/main.sh' | Should -Be 'original'
            $sandbox | Invoke-SandboxCommand 'echo inside > /workspace/new.txt'
            Join-Path $code 'new.txt' | Should -Not -Exist
        }

        It 'fails with PathNotFound for a missing -Path folder and leaves no container' {
            $name = New-TestName 'nopath'
            $before = @(Get-TestContainer).Id -join ','
            $missing = Join-Path $TestDrive 'does-not-exist'

            $err = { New-Sandbox -Name $name -Path $missing -ErrorAction Stop } |
                Should -Throw -ErrorId 'PathNotFound*' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            Test-ContainerExists $name | Should -BeFalse
            @(Get-TestContainer).Id -join ',' | Should -Be $before
        }
    }

    Context 'project sandboxes' {
        BeforeAll {
            $cwd = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'cwd')
            Push-Location -LiteralPath $cwd
            $project = New-TestProjectId 'app'
            $first = New-Sandbox -ProjectId $project -Name (New-TestName 'project')
            function Get-ProjectContainerId { docker ps -a -q --no-trunc --filter "label=io.sandbox.project=$project" }
        }
        AfterAll {
            Pop-Location
        }

        It '-ProjectId without -Path creates ./projects/{id} in the current location and mounts it' {
            $folder = Join-Path $cwd.FullName "projects/$project"
            $folder | Should -Exist
            $first.ProjectId | Should -Be $project
            Get-ContainerLabel $first.Id 'io.sandbox.project' | Should -Be $project
            $mount = (Get-ContainerInspect $first.Id).Mounts | Where-Object Destination -EQ '/workspace'
            $mount.Source | Should -Be $folder
            $first | Invoke-SandboxCommand 'echo kept > /workspace/state.txt'
            Get-Content -LiteralPath (Join-Path $folder 'state.txt') | Should -Be 'kept'
        }

        It 'refuses a second sandbox for the same project with SandboxProjectConflict' {
            $err = { New-Sandbox -ProjectId $project -ErrorAction Stop } |
                Should -Throw -ErrorId 'SandboxProjectConflict*' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceExists'
            @(Get-ProjectContainerId) | Should -Be @($first.Id)
        }

        It '-Reuse returns the running sandbox of the project' {
            $again = New-Sandbox -ProjectId $project -Reuse
            $again.Id | Should -Be $first.Id
            @(Get-ProjectContainerId) | Should -Be @($first.Id)
        }

        It '-Replace stops the old sandbox and starts a new one on the same folder' {
            $replacement = New-Sandbox -ProjectId $project -Replace -Name (New-TestName 'project2')
            $replacement.Id | Should -Not -Be $first.Id
            Test-ContainerExists $first.Id | Should -BeFalse
            @(Get-ProjectContainerId) | Should -Be @($replacement.Id)
            $replacement | Invoke-SandboxCommand 'cat /workspace/state.txt' | Should -Be 'kept'
        }
    }

    Context 'images' {
        It 'uses $env:SANDBOX_IMAGE when -Image is not given' {
            $alias = 'sandbox-local/busybox:{0}' -f (Get-TestPrefix)
            docker tag (Get-TestImage) $alias
            $env:SANDBOX_IMAGE = $alias
            try {
                $sandbox = New-Sandbox -Name (New-TestName 'envimage')
                $sandbox.Image | Should -Be $alias
                (Get-ContainerInspect $sandbox.Id).Config.Image | Should -Be $alias
            }
            finally {
                $env:SANDBOX_IMAGE = Get-TestImage
                if ($sandbox) { docker rm -f $sandbox.Id *> $null }
                docker rmi $alias *> $null
            }
        }

        It '-Image picks the image' {
            $env:SANDBOX_IMAGE = 'sandbox-local/not-this-one:latest'
            try {
                $sandbox = New-Sandbox -Name (New-TestName 'image') -Image (Get-TestImage)
                (Get-ContainerInspect $sandbox.Id).Config.Image | Should -Be (Get-TestImage)
            }
            finally { $env:SANDBOX_IMAGE = Get-TestImage }
        }

        It 'pulls a missing image from a registry and shows the pull as progress' {
            $image = $env:SANDBOX_TEST_REGISTRY_IMAGE
            if (-not $image) { Set-ItResult -Skipped -Because 'the test registry (tests/setup/Start-TestRegistry.sh) is not running'; return }
            docker rmi $image *> $null
            $name = New-TestName 'pulled'
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript({
                        param($module, $image, $name)
                        Import-Module $module
                        New-Sandbox -Image $image -Name $name -Timeout 60
                    }).AddArgument((Get-SandboxModulePath)).AddArgument($image).AddArgument($name)
                $result = $ps.Invoke()
                $ps.Streams.Error | Should -BeNullOrEmpty
                $result[0].Image | Should -Be $image
                (Get-ContainerInspect $name).State.Running | Should -BeTrue
                $pulls = @($ps.Streams.Progress | Where-Object Activity -Like "Pulling image $image*")
                $pulls.Count | Should -BeGreaterThan 0
                @($pulls | Where-Object RecordType -EQ 'Completed').Count | Should -Be 1
                docker image inspect $image --format '{{.Id}}' | Should -Not -BeNullOrEmpty
            }
            finally {
                $ps.Dispose()
                docker rm -f $name *> $null
                docker rmi $image *> $null
            }
        }

        It 'fails with ImageNotFound for a tag the registry does not have, and leaves no container' {
            $image = $env:SANDBOX_TEST_REGISTRY_IMAGE
            if (-not $image) { Set-ItResult -Skipped -Because 'the test registry (tests/setup/Start-TestRegistry.sh) is not running'; return }
            $missing = $image -replace ':latest$', ':no-such-tag'
            $name = New-TestName 'nosuchtag'
            $err = { New-Sandbox -Name $name -Image $missing -ErrorAction Stop -ProgressAction SilentlyContinue } |
                Should -Throw -ErrorId 'ImageNotFound*' -PassThru
            $err.Exception.Message | Should -BeLike "*$missing*"
            Test-ContainerExists $name | Should -BeFalse
        }

        It 'fails with ImageNotFound for an image that cannot be pulled and leaves no container' {
            $name = New-TestName 'noimage'
            $before = @(Get-TestContainer).Id -join ','
            $image = 'sandbox-local/no-such-image-{0}:latest' -f (Get-TestPrefix)

            $err = { New-Sandbox -Name $name -Image $image -ErrorAction Stop -ProgressAction SilentlyContinue } |
                Should -Throw -ErrorId 'ImageNotFound*' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            Test-ContainerExists $name | Should -BeFalse
            @(Get-TestContainer).Id -join ',' | Should -Be $before
        }
    }

    Context 'resource limits' {
        It 'applies the seed limits hashtable (docker inspect shows it)' {
            $sandbox = New-Sandbox -Name (New-TestName 'seedlimits') -Limits @{ mem_limit = '512m'; nano_cpus = 500000000; pids_limit = 50 }
            $hostConfig = (Get-ContainerInspect $sandbox.Id).HostConfig
            $hostConfig.Memory | Should -Be 536870912
            $hostConfig.NanoCpus | Should -Be 500000000
            $hostConfig.PidsLimit | Should -Be 50
            $sandbox.Limits.MemoryBytes | Should -Be 536870912
            $sandbox.Limits.NanoCpus | Should -Be 500000000
            $sandbox.Limits.PidsLimit | Should -Be 50
        }

        It 'applies -Memory 256MB -Cpus 0.5 -PidsLimit 64' {
            $sandbox = New-Sandbox -Name (New-TestName 'limits') -Memory 256MB -Cpus 0.5 -PidsLimit 64
            $hostConfig = (Get-ContainerInspect $sandbox.Id).HostConfig
            $hostConfig.Memory | Should -Be 268435456
            $hostConfig.NanoCpus | Should -Be 500000000
            $hostConfig.PidsLimit | Should -Be 64
            $sandbox.Limits.Cpus | Should -Be 0.5
        }

        It 'defaults to 1 GB of memory, 1 CPU and 100 processes' {
            $sandbox = New-Sandbox -Name (New-TestName 'deflimits')
            $hostConfig = (Get-ContainerInspect $sandbox.Id).HostConfig
            $hostConfig.Memory | Should -Be 1073741824
            $hostConfig.NanoCpus | Should -Be 1000000000
            $hostConfig.PidsLimit | Should -Be 100
        }

        It 'fails with InvalidLimit for <Case> and leaves no container' -ForEach @(
            @{ Case = 'an unreadable size'; Limits = @{ mem_limit = 'lots' } }
            @{ Case = 'a negative pids limit'; Limits = @{ pids_limit = -5 } }
            @{ Case = 'a misspelt key'; Limits = @{ mem_limt = '1g' } }
        ) {
            $name = New-TestName 'badlimit'
            $before = @(Get-TestContainer).Id -join ','
            $err = { New-Sandbox -Name $name -Limits $Limits -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidLimit*' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            Test-ContainerExists $name | Should -BeFalse
            @(Get-TestContainer).Id -join ',' | Should -Be $before
        }
    }

    Context 'security defaults' {
        BeforeAll {
            $sandbox = New-Sandbox -Name (New-TestName 'secure')
            $inspect = Get-ContainerInspect $sandbox.Id
        }

        It 'drops all capabilities, sets no-new-privileges and is not privileged' {
            $inspect.HostConfig.CapDrop | Should -Contain 'ALL'
            $inspect.HostConfig.SecurityOpt | Where-Object { $_ -like 'no-new-privileges*' -and $_ -notlike '*false' } |
                Should -Not -BeNullOrEmpty
            $inspect.HostConfig.Privileged | Should -BeFalse
        }

        It 'never mounts the engine socket' {
            $inspect.Mounts | Where-Object { $_.Source -like '*docker.sock*' -or $_.Destination -like '*docker.sock*' } |
                Should -BeNullOrEmpty
            $sandbox | Invoke-SandboxCommand 'ls /var/run/docker.sock /run/docker.sock' 6>$null
            $LASTEXITCODE | Should -Not -Be 0
        }

        It 'runs on the bridge network by default' {
            $inspect.HostConfig.NetworkMode | Should -BeIn 'bridge', 'default'
            ($sandbox | Invoke-SandboxCommand 'cat /proc/net/dev') -join "`n" | Should -Match 'eth0'
        }
    }

    Context 'network and ports' {
        It '-NetworkMode none leaves only the loopback interface' {
            $sandbox = New-Sandbox -Name (New-TestName 'nonet') -NetworkMode none
            (Get-ContainerInspect $sandbox.Id).HostConfig.NetworkMode | Should -Be 'none'
            $interfaces = ($sandbox | Invoke-SandboxCommand 'cat /proc/net/dev') -join "`n"
            $interfaces | Should -Match '\blo:'
            $interfaces | Should -Not -Match 'eth0'
        }

        It "-Port '8080' publishes on a free host port bound to 127.0.0.1" {
            $sandbox = New-Sandbox -Name (New-TestName 'port') -Port '8080'
            $sandbox.Ports | Should -HaveCount 1
            $port = $sandbox.Ports[0]
            $port.ContainerPort | Should -Be 8080
            $port.Protocol | Should -Be 'tcp'
            $port.HostIp | Should -Be '127.0.0.1'
            $port.HostPort | Should -BeGreaterThan 0
            $port.Url | Should -BeLike "*:$($port.HostPort)*"

            $binding = (Get-ContainerInspect $sandbox.Id).NetworkSettings.Ports.'8080/tcp'
            $binding[0].HostIp | Should -Be '127.0.0.1'
            [int]$binding[0].HostPort | Should -Be $port.HostPort
        }

        It "-Port @{'8080/tcp' = port} publishes on that host port (the seed's form)" {
            $free = Get-FreeTcpPort
            $sandbox = New-Sandbox -Name (New-TestName 'seedport') -Port @{ '8080/tcp' = $free }
            $sandbox.Ports[0].HostPort | Should -Be $free
            $sandbox.Ports[0].ContainerPort | Should -Be 8080
            $binding = (Get-ContainerInspect $sandbox.Id).NetworkSettings.Ports.'8080/tcp'
            [int]$binding[0].HostPort | Should -Be $free
            $binding[0].HostIp | Should -Be '127.0.0.1'
        }

        It "-Port '8080:port' publishes on that host port" {
            $free = Get-FreeTcpPort
            $sandbox = New-Sandbox -Name (New-TestName 'strport') -Port "8080:$free"
            $sandbox.Ports[0].HostPort | Should -Be $free
            [int](Get-ContainerInspect $sandbox.Id).NetworkSettings.Ports.'8080/tcp'[0].HostPort | Should -Be $free
        }

        It "-Port '0.0.0.0:port:8080' binds the wider address when asked" {
            $free = Get-FreeTcpPort
            $sandbox = New-Sandbox -Name (New-TestName 'wideport') -Port "0.0.0.0:${free}:8080"
            $sandbox.Ports[0].HostIp | Should -Be '0.0.0.0'
            $sandbox.Ports[0].HostPort | Should -Be $free
            $binding = (Get-ContainerInspect $sandbox.Id).NetworkSettings.Ports.'8080/tcp'
            $binding[0].HostIp | Should -Be '0.0.0.0'
        }

        It 'serves a web server that a background & command started, on 127.0.0.1' {
            $site = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'site')
            $sandbox = New-Sandbox -Name (New-TestName 'web') -Path $site -Port '8080'

            $elapsed = Measure-Command {
                Invoke-SandboxCommand -Sandbox $sandbox 'echo hi > /workspace/index.html; httpd -f -p 8080 -h /workspace &'
            }
            $elapsed.TotalSeconds | Should -BeLessThan 1.5

            $response = Invoke-WebRequestWithRetry "http://127.0.0.1:$($sandbox.Ports[0].HostPort)/index.html" -TimeoutSec 5
            (ConvertTo-Text $response.Content).Trim() | Should -Be 'hi'
        }
    }

    Context 'environment, name and hooks' {
        It '-Environment variables are visible inside' {
            $sandbox = New-Sandbox -Name (New-TestName 'env') -Environment @{ GREETING = 'hello sandbox'; EQUATION = 'a=b' }
            $sandbox | Invoke-SandboxCommand 'echo "$GREETING|$EQUATION"' | Should -Be 'hello sandbox|a=b'
        }

        It '-OnStart runs with the new sandbox as $_ and $args[0]' {
            $global:SandboxTestOnStart = $null
            $sandbox = New-Sandbox -Name (New-TestName 'onstart') -OnStart { $global:SandboxTestOnStart = @($_, $args[0]) }
            $global:SandboxTestOnStart | Should -HaveCount 2
            $global:SandboxTestOnStart[0].Id | Should -Be $sandbox.Id
            $global:SandboxTestOnStart[1].Id | Should -Be $sandbox.Id
        }

        It '-OnStart can prepare the running sandbox' {
            $sandbox = New-Sandbox -Name (New-TestName 'onstart2') -OnStart { $_ | Invoke-SandboxCommand 'echo prepared > /tmp/marker' }
            $sandbox | Invoke-SandboxCommand 'cat /tmp/marker' | Should -Be 'prepared'
        }

        It '-OnKill runs on Stop-Sandbox with the sandbox as $_ and $args[0]' {
            $global:SandboxTestOnKill = $null
            $sandbox = New-Sandbox -Name (New-TestName 'onkill') -OnKill { $global:SandboxTestOnKill = @($_, $args[0]) }
            $global:SandboxTestOnKill | Should -BeNullOrEmpty
            $sandbox | Stop-Sandbox
            $global:SandboxTestOnKill | Should -HaveCount 2
            $global:SandboxTestOnKill[0].Id | Should -Be $sandbox.Id
            $global:SandboxTestOnKill[1].Id | Should -Be $sandbox.Id
        }

        It '-OnKill runs when the sandbox times out while the prompt is idle' {
            $log = Join-Path $TestDrive 'onkill-timeout.log'
            $name = New-TestName 'onkilltimeout'
            $sandbox = New-Sandbox -Name $name -Timeout 3 -OnKill (New-FileHook $log)
            Test-Path -LiteralPath $log | Should -BeFalse

            Wait-Until { Test-Path -LiteralPath $log } -TimeoutSec 10 | Should -BeTrue
            Start-Sleep -Milliseconds 300   # let the hook finish its second line
            Get-Content -LiteralPath $log | Should -Be @("dollar_=$name", "args0=$name")
            Wait-Until { -not (Test-ContainerExists $sandbox.Id) } -TimeoutSec 3 | Should -BeTrue
        }
    }
}
