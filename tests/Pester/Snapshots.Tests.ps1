#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Snapshots against the real engine: Save-Sandbox commits a sandbox, New-Sandbox -Snapshot starts from it (also through a
# warm pool), Get-/Remove-SandboxSnapshot list and remove only images the module made; on the local socket, ssh:// and TLS.

BeforeDiscovery {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    $remoteEndpoints = @(Get-TestEndpoints -Name Ssh, Tls)
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'snap'

    function New-SnapshotName([string] $What) { New-TestName $What }

    function Get-ImageLabel([string] $Image, [string] $Label) {
        $labels = (docker image inspect $Image | ConvertFrom-Json)[0].Config.Labels
        $prop = $labels.PSObject.Properties[$Label]
        if ($prop) { $prop.Value }
    }

    function Test-Image([string] $Image) {
        docker image inspect $Image *> $null
        $LASTEXITCODE -eq 0
    }

    function Remove-TestImage {
        $images = @(docker image ls --format '{{.Repository}}:{{.Tag}}' | Where-Object { $_ -like "sandbox-snapshot/$(Get-TestPrefix)*" })
        if ($images) { docker rmi -f @images *> $null }
    }
}

AfterAll {
    Get-SandboxPool | Where-Object Name -like "$(Get-TestPrefix)*" | Stop-SandboxPool -Confirm:$false
    Remove-TestContainer
    Remove-TestImage
    Complete-SandboxTest
}

Describe 'Save-Sandbox and New-Sandbox -Snapshot' {

    BeforeAll {
        $code = Join-Path $TestDrive 'code'
        $null = New-Item -ItemType Directory -Path $code
        Set-Content -LiteralPath (Join-Path $code 'main.txt') -Value 'from the folder'
        $oldProject = New-TestProjectId 'old'
        $source = New-Sandbox -Name (New-TestName 'src') -ProjectId $oldProject -Path $code -CopyPath -Timeout 300 -ErrorAction Stop
        $source | Invoke-SandboxCommand 'echo written > /workspace/later.txt && mkdir -p /opt/x && echo opt > /opt/x/file.txt' -ErrorAction Stop
        $snapName = New-SnapshotName 'base'
        $snapshot = $source | Save-Sandbox $snapName -WarningVariable saveWarnings -ErrorAction Stop
    }

    It 'returns a SandboxSnapshot of the engine, labelled as the module''s and tagged sandbox-snapshot/<name>:latest' {
        $snapshot | Should -BeOfType ([Sandbox.SandboxSnapshot])
        $snapshot.Name | Should -Be $snapName
        $snapshot.Image | Should -Be "sandbox-snapshot/${snapName}:latest"
        $snapshot.ImageId | Should -Be (docker image inspect -f '{{.Id}}' $snapshot.Image)
        $snapshot.SourceSandbox | Should -Be $source.Name
        $snapshot.DockerHost | Should -Be 'unix:///var/run/docker.sock'
        $snapshot.Size | Should -BeGreaterThan 0
        $snapshot.CreatedAt | Should -BeGreaterThan ([datetime]::UtcNow.AddMinutes(-2))
        $saveWarnings | Should -BeNullOrEmpty -Because '/workspace was copied in, not mounted'
        Get-ImageLabel $snapshot.Image 'io.sandbox.snapshot' | Should -Be 'true'
        Get-ImageLabel $snapshot.Image 'io.sandbox.snapshot-of' | Should -Be $source.Name
        Get-ImageLabel $snapshot.Image 'io.sandbox.snapshot-workspace' | Should -Be 'Copied'
        Get-ImageLabel $snapshot.Image 'io.sandbox.snapshot-owner' | Should -Be "$([Environment]::MachineName):$PID"
        Get-ImageLabel $snapshot.Image 'io.sandbox.project' | Should -BeNullOrEmpty -Because 'the container''s labels are blanked on the image'
        Get-ImageLabel $snapshot.Image 'io.sandbox.managed' | Should -BeNullOrEmpty
        $entrypoint = (docker image inspect $snapshot.Image | ConvertFrom-Json)[0].Config.Entrypoint
        ($entrypoint -join ' ') | Should -Not -Match 'sandbox-deadline' -Because 'the base image''s Entrypoint is put back, not the old deadline guard'
        Get-SandboxSnapshot -Name $snapName | ForEach-Object ImageId | Should -Be $snapshot.ImageId
    }

    It 'restores the files written before it, in /workspace and elsewhere' {
        $restored = New-Sandbox -Snapshot $snapName -Timeout 60 -ErrorAction Stop
        try {
            $restored.Image | Should -Be $snapshot.Image
            docker run --rm $snapshot.Image cat /opt/x/file.txt | Should -Be 'opt' -Because 'the image runs as its base image does, without the old deadline guard'
            ($restored | Invoke-SandboxCommand 'cat /workspace/main.txt /workspace/later.txt /opt/x/file.txt') | Should -Be @('from the folder', 'written', 'opt')
        } finally { $restored | Stop-Sandbox }
    }

    It 'gives the new sandbox its own deadline and labels: the new project, not the saved one (nothing leaks through the image)' {
        $newProject = New-TestProjectId 'new'
        $fromProject = New-Sandbox -Snapshot $snapName -ProjectId $newProject -Timeout 30 -ErrorAction Stop
        $plain = New-Sandbox -Snapshot $snapName -Timeout 45 -ErrorAction Stop
        try {
            $fromProject.ProjectId | Should -Be $newProject
            $plain.ProjectId | Should -BeNullOrEmpty -Because 'the saved sandbox''s project must not come along with the image'
            $plain.CodePath | Should -BeNullOrEmpty
            $plain.Pool | Should -BeNullOrEmpty
            $plain.WorkspaceMode | Should -Be 'Empty'
            Get-ContainerLabel $plain.Id 'io.sandbox.project' | Should -Be '' -Because 'every key of the module is set on the container, empty meaning absent'
            Get-ContainerLabel $plain.Id 'io.sandbox.snapshot' | Should -Be ''
            (Get-Sandbox -Id $plain.Id).ProjectId | Should -BeNullOrEmpty
            @(Get-Sandbox -ProjectId $oldProject | Where-Object Id -in $plain.Id, $fromProject.Id) | Should -BeNullOrEmpty -Because 'only the saved sandbox is of the old project'
            (Get-Sandbox -ProjectId $newProject).Id | Should -Be $fromProject.Id
            $plain.TimeoutSec | Should -Be 45
            ($plain.ExpiresAt - $plain.CreatedAt).TotalSeconds | Should -BeGreaterOrEqual 44
            ($plain.ExpiresAt - $plain.CreatedAt).TotalSeconds | Should -BeLessOrEqual 47
            $deadlineFile = $plain | Invoke-SandboxCommand 'cat /run/sandbox/deadline 2>/dev/null; ps -o args= -p 1 2>/dev/null || cat /proc/1/cmdline | tr "\0" " "'
            ($deadlineFile -join ' ') | Should -Match 'sandbox-deadline' -Because 'PID 1 is this sandbox''s own deadline guard'
        } finally { $fromProject, $plain | Stop-Sandbox }
        $null = Remove-Item -Recurse -Force -LiteralPath (Join-Path (Get-Location) "projects/$newProject") -ErrorAction SilentlyContinue
    }

    It 'gives the new sandbox only its own labels even when the image carries a sandbox''s (committed with docker commit)' {
        # docker commit keeps every label of the container; Save-Sandbox blanks them, so this image stands for a snapshot
        # made another way (or by an older module). The new sandbox must set every key itself.
        $leakName = New-SnapshotName 'leak'
        $leakPool = New-TestName 'oldpool'
        docker commit --change 'LABEL io.sandbox.snapshot=true' --change "LABEL io.sandbox.pool=$leakPool" --change 'LABEL io.sandbox.user=nobody' `
            $source.Id "sandbox-snapshot/${leakName}:latest" *> $null
        $LASTEXITCODE | Should -Be 0
        Get-ImageLabel "sandbox-snapshot/${leakName}:latest" 'io.sandbox.project' | Should -Be $oldProject -Because 'the test needs an image that would leak'
        $fresh = New-Sandbox -Snapshot $leakName -Timeout 60 -ErrorAction Stop
        try {
            $fresh.ProjectId | Should -BeNullOrEmpty
            $fresh.Pool | Should -BeNullOrEmpty
            $fresh.CodePath | Should -BeNullOrEmpty
            $fresh.WorkspaceMode | Should -Be 'Empty'
            (Get-Sandbox -Id $fresh.Id).ProjectId | Should -BeNullOrEmpty
            (Get-Sandbox | Where-Object Id -eq $fresh.Id) | Should -Not -BeNullOrEmpty -Because 'an inherited pool label would hide it as a waiting pool member'
            @(Get-Sandbox -ProjectId $oldProject).Id | Should -Not -Contain $fresh.Id
            Get-ContainerLabel $fresh.Id 'io.sandbox.project' | Should -Be ''
            Get-ContainerLabel $fresh.Id 'io.sandbox.pool' | Should -Be ''
            Get-ContainerLabel $fresh.Id 'io.sandbox.user' | Should -Be ''
            Get-ContainerLabel $fresh.Id 'io.sandbox.expires' | Should -Not -Be (Get-ContainerLabel $source.Id 'io.sandbox.expires')
        } finally { $fresh | Stop-Sandbox }
    }

    It 'refuses a name taken by a snapshot unless -Force, which replaces it' {
        { $source | Save-Sandbox $snapName -ErrorAction Stop } | Should -Throw -ErrorId 'SnapshotExists,Sandbox.Commands.SaveSandboxCommand'
        $source | Invoke-SandboxCommand 'echo second > /opt/x/second.txt' -ErrorAction Stop
        $replaced = $source | Save-Sandbox $snapName -Force -ErrorAction Stop
        $replaced.ImageId | Should -Not -Be $snapshot.ImageId
        Test-Image $snapshot.ImageId | Should -BeFalse -Because 'the replaced image was not used by any container'
        $second = New-Sandbox -Snapshot $snapName -Timeout 60 -ErrorAction Stop
        try { $second | Invoke-SandboxCommand 'cat /opt/x/second.txt' | Should -Be 'second' } finally { $second | Stop-Sandbox }
    }

    It 'refuses -Snapshot with -Image, a missing snapshot (without pulling) and a cluster, with clear errors' {
        { New-Sandbox -Snapshot $snapName -Image (Get-TestImage) -ErrorAction Stop } | Should -Throw -ErrorId 'ConflictingImage,Sandbox.Commands.NewSandboxCommand'
        $err = $null
        try { New-Sandbox -Snapshot 'sbt-no-such-snapshot' -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'SnapshotNotFound,Sandbox.Commands.NewSandboxCommand'
        $err.Exception.Message | Should -Match 'no snapshot'
        $err = $null
        # Refused before any connection: no swarm needs to be up.
        Use-TestEnvironment @{ DOCKER_TLS_VERIFY = '1'; DOCKER_CERT_PATH = (Get-TestTlsCertPath) } {
            try { New-Sandbox -Snapshot $snapName -Cluster 'tcp://10.213.0.11:2376' -ErrorAction Stop } catch { $err = $_ }
        }
        $err.FullyQualifiedErrorId | Should -Be 'SnapshotNotOnCluster,Sandbox.Commands.NewSandboxCommand'
        $err.ErrorDetails.RecommendedAction | Should -Match 'registry'
        { $source | Save-Sandbox 'Upper Case' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSnapshotName,Sandbox.Commands.SaveSandboxCommand'
    }

    It 'warns that a mounted /workspace is not in the snapshot, which then has it empty' {
        $mounted = New-Sandbox -Name (New-TestName 'mnt') -Path $code -Timeout 120 -ErrorAction Stop
        try {
            $mounted | Invoke-SandboxCommand 'mkdir -p /opt && echo kept > /opt/kept.txt' -ErrorAction Stop
            $name = New-SnapshotName 'mnt'
            $null = $mounted | Save-Sandbox $name -WarningVariable warnings -WarningAction SilentlyContinue -ErrorAction Stop
            ($warnings -join "`n") | Should -Match '/workspace .*is mounted.*empty'
            $fromMounted = New-Sandbox -Snapshot $name -Timeout 60 -ErrorAction Stop
            try {
                $fromMounted | Invoke-SandboxCommand 'cat /opt/kept.txt; ls -A /workspace | wc -l' | Should -Be @('kept', '0')
            } finally { $fromMounted | Stop-Sandbox }
        } finally { $mounted | Stop-Sandbox }
    }

    It 'Use-Sandbox -Snapshot runs the block in a sandbox from the snapshot and removes it' {
        $seen = Use-Sandbox -Snapshot $snapName -Timeout 60 { param($s) $s.Id; $s | Invoke-SandboxCommand 'cat /opt/x/file.txt' } -ErrorAction Stop
        $seen[1] | Should -Be 'opt'
        Wait-Until -TimeoutSec 10 { -not (Test-ContainerExists $seen[0]) } | Should -BeTrue
    }

    It 'starts sandboxes from a snapshot through a warm pool' {
        $poolName = New-TestName 'pool'
        $pool = Start-SandboxPool -Name $poolName -Snapshot $snapName -Size 1 -Wait -ErrorAction Stop
        try {
            $pool.Image | Should -Be "sandbox-snapshot/${snapName}:latest"
            $member = $pool.Members[0].Name
            $taken = New-Sandbox -Snapshot $snapName -Timeout 60 -ErrorAction Stop
            try {
                $taken.Name | Should -Be $member -Because 'the pool key is the snapshot''s image'
                $taken | Invoke-SandboxCommand 'cat /workspace/later.txt' | Should -Be 'written'
            } finally { $taken | Stop-Sandbox }
        } finally { $pool | Stop-SandboxPool -Confirm:$false }
    }

    AfterAll { $source | Stop-Sandbox -ErrorAction SilentlyContinue }
}

Describe 'Get-SandboxSnapshot and Remove-SandboxSnapshot' {

    BeforeAll {
        $sb = New-Sandbox -Name (New-TestName 'ls') -Timeout 120 -ErrorAction Stop
    }
    AfterAll { $sb | Stop-Sandbox -ErrorAction SilentlyContinue }

    It 'lists snapshots by wildcard and removes them by name and from the pipeline' {
        $a = $sb | Save-Sandbox (New-SnapshotName 'lsa') -ErrorAction Stop
        $b = $sb | Save-Sandbox (New-SnapshotName 'lsb') -ErrorAction Stop
        $listed = @(Get-SandboxSnapshot -Name "$(Get-TestPrefix)-ls*")
        @($listed.Name | Sort-Object) | Should -Be @($a.Name, $b.Name | Sort-Object)
        $table = ($listed | Format-Table | Out-String -Width 80) -split "`n"
        ($table | Where-Object { $_.TrimEnd().Length -gt 80 }) | Should -BeNullOrEmpty
        ($table -join "`n") | Should -Match ([regex]::Escape($a.Name.Substring(0, 20))) -Because 'long names are cut at 24 characters'

        Remove-SandboxSnapshot -Name $a.Name -Confirm:$false -ErrorAction Stop
        Test-Image $a.Image | Should -BeFalse
        Get-SandboxSnapshot -Name $b.Name | Remove-SandboxSnapshot -Confirm:$false -ErrorAction Stop
        Test-Image $b.Image | Should -BeFalse
        { Get-SandboxSnapshot -Name $a.Name -ErrorAction Stop } | Should -Throw -ErrorId 'SnapshotNotFound,Sandbox.Commands.GetSandboxSnapshotCommand'
    }

    It 'shows a typical snapshot in a table of 80 columns without cutting a value short' {
        $plain = New-Sandbox -Timeout 60 -ErrorAction Stop
        try {
            $snap = $plain | Save-Sandbox (New-SnapshotName 'v') -ErrorAction Stop
            $lines = @(($snap | Out-String -Width 80) -split "`r?`n" | Where-Object { $_.Trim() })
            foreach ($line in $lines) { $line.Length | Should -BeLessOrEqual 80 -Because "'$line' must fit" }
            $lines[0].Trim() | Should -Be "DockerHost: $($snap.DockerHost)"
            $lines[1] -split '\s+' | Where-Object { $_ } | Should -Be 'Name', 'ImageId', 'Size', 'CreatedAt', 'SourceSandbox'
            $lines[3] | Should -Match "^$([regex]::Escape($snap.Name))\s+$($snap.ShortImageId)\s+\d+ MB\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+$([regex]::Escape($plain.Name))\s*$"
            $snap | Remove-SandboxSnapshot -Confirm:$false
        } finally { $plain | Stop-Sandbox }
    }

    It 'completes snapshot names for -Snapshot, -SnapshotName and -Name' {
        $snap = $sb | Save-Sandbox (New-SnapshotName 'tab') -ErrorAction Stop
        try {
            $typed = $snap.Name.Substring(0, $snap.Name.Length - 2)
            foreach ($line in "New-Sandbox -Snapshot $typed", "Use-Sandbox -Snapshot $typed", "Start-SandboxPool -Snapshot $typed",
                "Save-Sandbox -SnapshotName $typed", "Get-SandboxSnapshot $typed", "Remove-SandboxSnapshot -Name $typed") {
                $seen = @{ Texts = @() }
                $null = Wait-Until -TimeoutSec 10 -IntervalMs 100 {
                    $seen.Texts = @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText)
                    $seen.Texts -contains $snap.Name
                }
                $seen.Texts | Should -Be @($snap.Name) -Because "'$line' completes the snapshot's name, and only it"
            }
        } finally { $snap | Remove-SandboxSnapshot -Confirm:$false }
    }

    It 'never removes an image the module did not make, and says why' {
        $foreign = "sandbox-snapshot/$(New-SnapshotName 'foreign'):latest"
        docker tag (Get-TestImage) $foreign
        $foreignName = ($foreign -replace '^sandbox-snapshot/' -replace ':latest$')
        try {
            @(Get-SandboxSnapshot | Where-Object Name -eq $foreignName) | Should -BeNullOrEmpty -Because 'it lacks io.sandbox.snapshot=true'
            $err = $null
            try { Remove-SandboxSnapshot -Name $foreignName -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'NotASnapshot,Sandbox.Commands.RemoveSandboxSnapshotCommand'
            $err.Exception.Message | Should -Match 'not made by Save-Sandbox'
            Remove-SandboxSnapshot -Name "$(Get-TestPrefix)-foreign*" -Confirm:$false -ErrorAction Stop
            Test-Image $foreign | Should -BeTrue -Because 'neither a name nor a wildcard reaches an unlabelled image'
            { $sb | Save-Sandbox $foreignName -Force -ErrorAction Stop } | Should -Throw -ErrorId 'SnapshotNameTaken,Sandbox.Commands.SaveSandboxCommand'
            { New-Sandbox -Snapshot $foreignName -ErrorAction Stop } | Should -Throw -ErrorId 'NotASnapshot,Sandbox.Commands.NewSandboxCommand'
            Test-Image $foreign | Should -BeTrue
        } finally { docker rmi $foreign *> $null }
    }

    It 'refuses to remove a snapshot a running sandbox uses, with a clear error' {
        $snap = $sb | Save-Sandbox (New-SnapshotName 'busy') -ErrorAction Stop
        $user = New-Sandbox -Snapshot $snap.Name -Timeout 60 -ErrorAction Stop
        try {
            $err = $null
            try { Remove-SandboxSnapshot -Name $snap.Name -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'SnapshotInUse,Sandbox.Commands.RemoveSandboxSnapshotCommand'
            $err.Exception.Message | Should -Match ([regex]::Escape($user.Name))
            Test-Image $snap.Image | Should -BeTrue
        } finally { $user | Stop-Sandbox }
        Remove-SandboxSnapshot -Name $snap.Name -Confirm:$false -ErrorAction Stop
        Test-Image $snap.Image | Should -BeFalse
    }

    It 'honours -WhatIf' {
        $snap = $sb | Save-Sandbox (New-SnapshotName 'whatif') -ErrorAction Stop
        Remove-SandboxSnapshot -Name $snap.Name -WhatIf
        Test-Image $snap.Image | Should -BeTrue
        $snap | Remove-SandboxSnapshot -Confirm:$false
        Test-Image $snap.Image | Should -BeFalse
    }
}

Describe 'Snapshots on <Name>' -ForEach $remoteEndpoints {

    BeforeAll { Assert-TestEndpoint -Name $Name }

    It 'saves, starts from, lists and removes a snapshot on the remote engine' {
        $endpoint = $_
        $sandbox = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Name (New-TestName 'remote') -Timeout 120 -ErrorAction Stop }
        try {
            Use-TestEndpoint $endpoint { $sandbox | Invoke-SandboxCommand 'mkdir -p /opt && echo remote > /opt/remote.txt' -ErrorAction Stop }
            $snapName = New-SnapshotName 'remote'
            $snap = Use-TestEndpoint $endpoint { $sandbox | Save-Sandbox $snapName -ErrorAction Stop }
            $snap.DockerHost | Should -Be $sandbox.DockerHost
            $restored = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Snapshot $snapName -Timeout 60 -ErrorAction Stop }
            try {
                Use-TestEndpoint $endpoint { $restored | Invoke-SandboxCommand 'cat /opt/remote.txt' } | Should -Be 'remote'
            } finally { Use-TestEndpoint $endpoint { $restored | Stop-Sandbox } }
            $listed = Use-TestEndpoint $endpoint { Get-SandboxSnapshot -DockerHost $DockerHost -Name $snapName -ErrorAction Stop }
            $listed.DockerHost | Should -Be $snap.DockerHost
            Use-TestEndpoint $endpoint { $listed | Remove-SandboxSnapshot -Confirm:$false -ErrorAction Stop }
            Test-Image $snap.Image | Should -BeFalse
        } finally { Use-TestEndpoint $endpoint { $sandbox | Stop-Sandbox -ErrorAction SilentlyContinue } }
    }
}
