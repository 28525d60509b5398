#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# The bad-input campaign: invalid values for every parameter of every cmdlet, one row per case.
# Each case must give exactly one error with a specific ErrorId and category, a message that says what to fix
# (a key phrase), no .NET stack trace or raw exception type in what the user reads, no output, an answer within
# seconds, and nothing left on the engine: no container, volume or network of this file's that was not there before.
# Parameter-binding errors from PowerShell itself (ParameterArgumentValidationError, InputObjectNotBound, ...) are
# the expected answer where a parameter's attributes already catch the value.
# A few positive controls at the end show that valid unusual input (unicode) works.

BeforeDiscovery {
    # The blocks run in the tests, where BeforeAll has set $Target, $Gone, $Paused, $LocalFile, $LocalFolder,
    # $BusyPort and $missing (a sandbox name that exists nowhere). Cases that could touch sandboxes other than this
    # file's if the module matched too much (a blank -Id, a broken wildcard) carry -WhatIf.
    $newSandboxCases = @(
        # -Image
        @{ Run = { New-Sandbox -Image '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
        @{ Run = { New-Sandbox -Image '   ' }; ErrorId = 'InvalidImageReference'; Category = 'InvalidArgument'; Phrase = 'not a valid image reference' }
        @{ Run = { New-Sandbox -Image 'UPPER/Case' }; ErrorId = 'InvalidImageReference'; Category = 'InvalidArgument'; Phrase = 'lower case' }
        @{ Run = { New-Sandbox -Image 'a b' }; ErrorId = 'InvalidImageReference'; Category = 'InvalidArgument'; Phrase = 'not a valid image reference' }
        @{ Run = { New-Sandbox -Image ':tag' }; ErrorId = 'InvalidImageReference'; Category = 'InvalidArgument'; Phrase = 'not a valid image reference' }
        @{ Run = { New-Sandbox -Image 'x@sha256:zz' }; ErrorId = 'InvalidImageReference'; Category = 'InvalidArgument'; Phrase = 'not a valid image reference' }
        @{ Run = { New-Sandbox -Image ('a' * 300) }; ErrorId = 'InvalidImageReference'; Category = 'InvalidArgument'; Phrase = '255 characters' }
        @{ Run = { New-Sandbox -Image "sandbox-local/busybox:latest`n" }; ErrorId = 'InvalidImageReference'; Category = 'InvalidArgument'; Phrase = 'not a valid image reference' }
        @{ Run = { New-Sandbox -Image 'localhost:1/no/such-image:1' }; ErrorId = 'ImageNotFound'; Category = 'ObjectNotFound'; Phrase = 'could not be pulled' }
        # -Name
        @{ Run = { New-Sandbox -Name '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
        @{ Run = { New-Sandbox -Name '   ' }; ErrorId = 'InvalidSandboxName'; Category = 'InvalidArgument'; Phrase = 'Use letters, digits' }
        @{ Run = { New-Sandbox -Name '-x' }; ErrorId = 'InvalidSandboxName'; Category = 'InvalidArgument'; Phrase = 'starting with a letter or digit' }
        @{ Run = { New-Sandbox -Name 'a/b' }; ErrorId = 'InvalidSandboxName'; Category = 'InvalidArgument'; Phrase = 'Use letters, digits' }
        @{ Run = { New-Sandbox -Name ('a' * 300) }; ErrorId = 'InvalidSandboxName'; Category = 'InvalidArgument'; Phrase = 'at most 128' }
        @{ Run = { New-Sandbox -Name 'sandbox-ünïcødé' }; ErrorId = 'InvalidSandboxName'; Category = 'InvalidArgument'; Phrase = 'Use letters, digits' }
        @{ Run = { New-Sandbox -Name "$(New-TestName 'newline')`n" }; ErrorId = 'InvalidSandboxName'; Category = 'InvalidArgument'; Phrase = 'Use letters, digits' }
        # -Timeout
        @{ Run = { New-Sandbox -Timeout -1 }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'minimum allowed range of 0' }
        @{ Run = { New-Sandbox -Timeout 99999999 }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'maximum allowed range' }
        @{ Run = { New-Sandbox -Timeout 'soon' }; ErrorId = 'CannotConvertArgumentNoMessage'; Category = 'InvalidArgument'; Phrase = 'Cannot convert value "soon"' }
        # -Memory, -Cpus, -PidsLimit
        @{ Run = { New-Sandbox -Memory -1 }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'minimum allowed range' }
        @{ Run = { New-Sandbox -Memory 1KB }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'minimum allowed range of 6291456' }
        @{ Run = { New-Sandbox -Cpus 0 }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'minimum allowed range of 0.01' }
        @{ Run = { New-Sandbox -Cpus -2 }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'minimum allowed range' }
        @{ Run = { New-Sandbox -Cpus 1000 }; ErrorId = 'InvalidSandboxSettings'; Category = 'InvalidArgument'; Phrase = 'Range of CPUs' }
        @{ Run = { New-Sandbox -PidsLimit 0 }; ErrorId = 'InvalidLimit'; Category = 'InvalidArgument'; Phrase = 'or -1 for no limit' }
        @{ Run = { New-Sandbox -PidsLimit -5 }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'minimum allowed range of -1' }
        # -Limits (the seed's hashtable)
        @{ Run = { New-Sandbox -Limits @{ mem_limit = 'lots' } }; ErrorId = 'InvalidLimit'; Category = 'InvalidArgument'; Phrase = 'must be a size such as 512m' }
        @{ Run = { New-Sandbox -Limits @{ mem_limit = '1k' } }; ErrorId = 'InvalidLimit'; Category = 'InvalidArgument'; Phrase = 'must be at least' }
        @{ Run = { New-Sandbox -Limits @{ bogus = 1 } }; ErrorId = 'InvalidLimit'; Category = 'InvalidArgument'; Phrase = 'Use one of: mem_limit' }
        @{ Run = { New-Sandbox -Limits @{ '' = 1 } }; ErrorId = 'InvalidLimit'; Category = 'InvalidArgument'; Phrase = 'Use one of: mem_limit' }
        @{ Run = { New-Sandbox -Limits @{ pids_limit = -5 } }; ErrorId = 'InvalidLimit'; Category = 'InvalidArgument'; Phrase = 'whole number from 1' }
        @{ Run = { New-Sandbox -Limits @{ cpus = 0 } }; ErrorId = 'InvalidLimit'; Category = 'InvalidArgument'; Phrase = 'positive number of CPUs' }
        @{ Run = { New-Sandbox -Limits @{ storage_opt = 5 } }; ErrorId = 'InvalidLimit'; Category = 'InvalidArgument'; Phrase = "size=10G" }
        @{ Run = { New-Sandbox -Limits @{ ulimits = 'x' } }; ErrorId = 'InvalidLimit'; Category = 'InvalidArgument'; Phrase = 'must be a hashtable' }
        @{ Run = { New-Sandbox -Limits @{ ulimits = @{ nofile = '10:5' } } }; ErrorId = 'InvalidLimit'; Category = 'InvalidArgument'; Phrase = 'soft:hard' }
        @{ Run = { New-Sandbox -Limits @{ memswap_limit = '10m' } }; ErrorId = 'InvalidLimit'; Category = 'InvalidArgument'; Phrase = 'must be at least mem_limit' }
        @{ Run = { New-Sandbox -Limits @{ cpuset_cpus = 'abc' } }; ErrorId = 'InvalidLimit'; Category = 'InvalidArgument'; Phrase = "such as '0-1'" }
        @{ Run = { New-Sandbox -Limits @{ oom_kill_disable = 'maybe' } }; ErrorId = 'InvalidLimit'; Category = 'InvalidArgument'; Phrase = '$true or $false' }
        @{ Run = { New-Sandbox -Limits $null }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'The argument is null' }
        @{ Run = { New-Sandbox -Limits 'mem_limit=1g' }; ErrorId = 'CannotConvertArgumentNoMessage'; Category = 'InvalidArgument'; Phrase = 'Hashtable' }
        # -Port
        @{ Run = { New-Sandbox -Port 'abc' }; ErrorId = 'InvalidPort'; Category = 'InvalidArgument'; Phrase = 'from 1 to 65535' }
        @{ Run = { New-Sandbox -Port '70000' }; ErrorId = 'InvalidPort'; Category = 'InvalidArgument'; Phrase = 'from 1 to 65535' }
        @{ Run = { New-Sandbox -Port '8080/xyz' }; ErrorId = 'InvalidPort'; Category = 'InvalidArgument'; Phrase = 'Use tcp, udp or sctp' }
        @{ Run = { New-Sandbox -Port '1.2:3:4' }; ErrorId = 'InvalidPort'; Category = 'InvalidArgument'; Phrase = 'not an IP address' }
        @{ Run = { New-Sandbox -Port @{ 'x' = 1 } }; ErrorId = 'InvalidPort'; Category = 'InvalidArgument'; Phrase = 'not a container port' }
        @{ Run = { New-Sandbox -Port '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null, empty' }
        @{ Run = { New-Sandbox -Port -1 }; ErrorId = 'InvalidPort'; Category = 'InvalidArgument'; Phrase = 'not a container port' }
        @{ Run = { New-Sandbox -Port 0 }; ErrorId = 'InvalidPort'; Category = 'InvalidArgument'; Phrase = 'from 1 to 65535' }
        @{ Run = { New-Sandbox -Port '8080:99999' }; ErrorId = 'InvalidPort'; Category = 'InvalidArgument'; Phrase = 'not a host port' }
        @{ Run = { New-Sandbox -Port @{ '8080/tcp' = -1 } }; ErrorId = 'InvalidPort'; Category = 'InvalidArgument'; Phrase = '0 for a free port' }
        @{ Run = { New-Sandbox -Port '8080:5000', '9090:5000' }; ErrorId = 'InvalidPort'; Category = 'InvalidArgument'; Phrase = 'asked for twice' }
        @{ Run = { New-Sandbox -Port '[::1:22000:8080' }; ErrorId = 'InvalidPort'; Category = 'InvalidArgument'; Phrase = '[::1]:22000:8080' }
        @{ Run = { New-Sandbox -Port "8080:$BusyPort" }; ErrorId = 'PortAlreadyAllocated'; Category = 'ResourceUnavailable'; Phrase = 'already in use' }
        # -NetworkMode, -Environment, -User
        @{ Run = { New-Sandbox -NetworkMode '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
        @{ Run = { New-Sandbox -NetworkMode 'sbt-badinput-no-such-network' }; ErrorId = 'NetworkNotFound'; Category = 'ObjectNotFound'; Phrase = 'does not exist' }
        @{ Run = { New-Sandbox -Environment @{ 'A=B' = 'x' } }; ErrorId = 'InvalidEnvironment'; Category = 'InvalidArgument'; Phrase = 'not an environment variable name' }
        @{ Run = { New-Sandbox -Environment @{ '' = 'x' } }; ErrorId = 'InvalidEnvironment'; Category = 'InvalidArgument'; Phrase = 'not an environment variable name' }
        @{ Run = { New-Sandbox -Environment @{ A = "x`0y" } }; ErrorId = 'InvalidEnvironment'; Category = 'InvalidArgument'; Phrase = "'A'" }
        @{ Run = { New-Sandbox -User '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
        @{ Run = { New-Sandbox -User 'bad user!' }; ErrorId = 'InvalidUser'; Category = 'InvalidArgument'; Phrase = 'Use a name or uid' }
        @{ Run = { New-Sandbox -User 'sbt-no-such-user' }; ErrorId = 'UserNotFound'; Category = 'ObjectNotFound'; Phrase = 'sbt-no-such-user' }
        # -Path, -ProjectId, -CopyPath, -Replace/-Reuse
        @{ Run = { New-Sandbox -Path '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
        @{ Run = { New-Sandbox -Path (Join-Path $TestDrive 'no/such/folder') }; ErrorId = 'PathNotFound'; Category = 'ObjectNotFound'; Phrase = 'does not exist' }
        @{ Run = { New-Sandbox -Path $LocalFile }; ErrorId = 'PathNotFound'; Category = 'ObjectNotFound'; Phrase = '-Path takes the folder' }
        @{ Run = { New-Sandbox -ProjectId '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
        @{ Run = { New-Sandbox -ProjectId '   ' }; ErrorId = 'InvalidProjectId'; Category = 'InvalidArgument'; Phrase = 'blank' }
        @{ Run = { New-Sandbox -ProjectId '..' }; ErrorId = 'InvalidProjectId'; Category = 'InvalidArgument'; Phrase = 'Use letters, digits' }
        @{ Run = { New-Sandbox -ProjectId '../x' }; ErrorId = 'InvalidProjectId'; Category = 'InvalidArgument'; Phrase = 'Use letters, digits' }
        @{ Run = { New-Sandbox -ProjectId ('p' * 300) }; ErrorId = 'InvalidProjectId'; Category = 'InvalidArgument'; Phrase = 'too long' }
        @{ Run = { New-Sandbox -CopyPath }; ErrorId = 'PathRequired'; Category = 'InvalidArgument'; Phrase = '-CopyPath needs -Path' }
        @{ Run = { New-Sandbox -ProjectId 'sbt-badinput-switches' -Replace -Reuse }; ErrorId = 'ConflictingSwitches'; Category = 'InvalidArgument'; Phrase = '-Replace or -Reuse, not both' }
        # -DockerHost, -SshKeyPath
        @{ Run = { New-Sandbox -DockerHost '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
        @{ Run = { New-Sandbox -DockerHost '   ' }; ErrorId = 'InvalidDockerHost'; Category = 'InvalidArgument'; Phrase = 'empty' }
        @{ Run = { New-Sandbox -DockerHost 'foo' }; ErrorId = 'InvalidDockerHost'; Category = 'InvalidArgument'; Phrase = 'tcp://host:port' }
        @{ Run = { New-Sandbox -DockerHost 'ftp://x' }; ErrorId = 'InvalidDockerHost'; Category = 'InvalidArgument'; Phrase = 'Use unix://, tcp://, ssh://' }
        @{ Run = { New-Sandbox -DockerHost 'tcp://' }; ErrorId = 'InvalidDockerHost'; Category = 'InvalidArgument'; Phrase = 'names no host' }
        @{ Run = { New-Sandbox -DockerHost 'tcp://127.0.0.1:99999' }; ErrorId = 'InvalidDockerHost'; Category = 'InvalidArgument'; Phrase = 'not a Docker host address' }
        @{ Run = { New-Sandbox -DockerHost 'tcp://10.1.2.3:2375' }; ErrorId = 'InsecureDockerHost'; Category = 'SecurityError'; Phrase = 'without TLS' }
        @{ Run = { New-Sandbox -DockerHost 'unix:///nonexistent.sock' }; ErrorId = 'DockerEndpointUnavailable'; Category = 'ConnectionError'; Phrase = 'there is no socket at /nonexistent.sock' }
        @{ Run = { New-Sandbox -SshKeyPath '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
        # -Credential $null makes PowerShell ask for one: without a host to ask, binding fails.
        @{ Run = { Invoke-WithoutHost 'New-Sandbox -Credential $null' }; ErrorId = 'ParameterArgumentTransformationError'; Category = 'InvalidData'; Phrase = "parameter 'Credential'" }
    )

    $useSandboxCases = @(
        @{ Run = { Use-Sandbox -ScriptBlock $null }; ErrorId = 'ParameterArgumentValidationErrorNullNotAllowed'; Category = 'InvalidData'; Phrase = 'because it is null' }
        @{ Run = { Use-Sandbox -ScriptBlock 'hello' }; ErrorId = 'CannotConvertArgumentNoMessage'; Category = 'InvalidArgument'; Phrase = 'ScriptBlock' }
        @{ Run = { Use-Sandbox -ScriptBlock }; ErrorId = 'MissingArgument'; Category = 'InvalidArgument'; Phrase = "Missing an argument for parameter 'ScriptBlock'" }
        # Without -ScriptBlock at all: a fresh runspace without a host, so that PowerShell cannot prompt for it.
        @{ Run = { Invoke-WithoutHost 'Use-Sandbox -Image busybox' }; ErrorId = 'MissingMandatoryParameter'; Category = 'InvalidArgument'; Phrase = 'ScriptBlock' }
        @{ Run = { Use-Sandbox -ProjectId 'sbt-badinput-switches' -Replace -Reuse { 'the block ran' } }; ErrorId = 'ConflictingSwitches'; Category = 'InvalidArgument'; Phrase = 'not both' }
        @{ Run = { Use-Sandbox -Image 'UPPER/Case' { 'the block ran' } }; ErrorId = 'InvalidImageReference'; Category = 'InvalidArgument'; Phrase = 'lower case' }
        @{ Run = { Use-Sandbox -Port 'abc' { 'the block ran' } }; ErrorId = 'InvalidPort'; Category = 'InvalidArgument'; Phrase = 'from 1 to 65535' }
        @{ Run = { Use-Sandbox -Timeout -1 { 'the block ran' } }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'minimum allowed range of 0' }
        @{ Run = { Use-Sandbox -DockerHost 'unix:///nonexistent.sock' { 'the block ran' } }; ErrorId = 'DockerEndpointUnavailable'; Category = 'ConnectionError'; Phrase = 'Cannot reach the Docker engine' }
        @{ Run = { Use-Sandbox -SshKeyPath '' { 'the block ran' } }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
    )

    $invokeCases = @(
        # -Command / -ArgumentList
        @{ Run = { $Target | Invoke-SandboxCommand }; ErrorId = 'CommandRequired'; Category = 'InvalidArgument'; Phrase = 'No command was given' }
        @{ Run = { $Target | Invoke-SandboxCommand 'true' -ArgumentList 'true' }; ErrorId = 'CommandAndArgumentList'; Category = 'InvalidArgument'; Phrase = 'not both' }
        @{ Run = { $Target | Invoke-SandboxCommand -Command '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
        @{ Run = { $Target | Invoke-SandboxCommand -Command '   ' }; ErrorId = 'CommandRequired'; Category = 'InvalidArgument'; Phrase = 'No command was given' }
        @{ Run = { $Target | Invoke-SandboxCommand -ArgumentList @() }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null, empty' }
        @{ Run = { $Target | Invoke-SandboxCommand -ArgumentList '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null, empty' }
        @{ Run = { $Target | Invoke-SandboxCommand -ArgumentList '/sbt/no/such/program' }; ErrorId = 'SandboxCommandNotFound'; Category = 'ObjectNotFound'; Phrase = '/sbt/no/such/program' }
        # -TimeoutSec
        @{ Run = { $Target | Invoke-SandboxCommand 'true' -TimeoutSec -1 }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'minimum allowed range of 0' }
        @{ Run = { $Target | Invoke-SandboxCommand 'true' -TimeoutSec 99999999 }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'maximum allowed range' }
        @{ Run = { $Target | Invoke-SandboxCommand 'true' -TimeoutSec 'forever' }; ErrorId = 'CannotConvertArgumentNoMessage'; Category = 'InvalidArgument'; Phrase = 'Cannot convert value "forever"' }
        # -User
        @{ Run = { $Target | Invoke-SandboxCommand 'id' -User '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
        @{ Run = { $Target | Invoke-SandboxCommand 'id' -User 'bad user!' }; ErrorId = 'InvalidUser'; Category = 'InvalidArgument'; Phrase = 'Use a name or uid' }
        @{ Run = { $Target | Invoke-SandboxCommand 'id' -User 'sbt-no-such-user' }; ErrorId = 'UserNotFound'; Category = 'ObjectNotFound'; Phrase = 'sbt-no-such-user' }
        # -WorkingDirectory
        @{ Run = { $Target | Invoke-SandboxCommand 'pwd' -WorkingDirectory '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
        @{ Run = { $Target | Invoke-SandboxCommand 'pwd' -WorkingDirectory '/sbt/no/such/folder' }; ErrorId = 'SandboxPathNotFound'; Category = 'ObjectNotFound'; Phrase = '/sbt/no/such/folder' }
        @{ Run = { $Target | Invoke-SandboxCommand 'pwd' -WorkingDirectory 'sbt-no-such-subfolder' }; ErrorId = 'SandboxPathNotFound'; Category = 'ObjectNotFound'; Phrase = 'sbt-no-such-subfolder' }
        # -Environment
        @{ Run = { $Target | Invoke-SandboxCommand 'true' -Environment @{ 'A=B' = 1 } }; ErrorId = 'InvalidEnvironment'; Category = 'InvalidArgument'; Phrase = 'not an environment variable name' }
        @{ Run = { $Target | Invoke-SandboxCommand 'true' -Environment @{ '' = 1 } }; ErrorId = 'InvalidEnvironment'; Category = 'InvalidArgument'; Phrase = 'not an environment variable name' }
        @{ Run = { $Target | Invoke-SandboxCommand 'true' -Environment @{ A = "x`0y" } }; ErrorId = 'InvalidEnvironment'; Category = 'InvalidArgument'; Phrase = "'A'" }
        @{ Run = { $Target | Invoke-SandboxCommand 'true' -Environment $null }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'The argument is null' }
        # naming the sandbox
        @{ Run = { Invoke-SandboxCommand -Sandbox $null 'true' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'The argument is null' }
        @{ Run = { Invoke-SandboxCommand -Id '' 'true' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null, empty' }
        @{ Run = { Invoke-SandboxCommand -Id '   ' 'true' }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'Get-Sandbox' }
        @{ Run = { Invoke-SandboxCommand -Id 'sbt-no-such-id' 'true' }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'Get-Sandbox' }
        @{ Run = { Invoke-SandboxCommand -Name $missing 'true' }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'Get-Sandbox' }
        @{ Run = { Invoke-SandboxCommand -Name '[abc' 'true' }; ErrorId = 'InvalidWildcardPattern'; Category = 'InvalidArgument'; Phrase = '[abc' }
        @{ Run = { Invoke-SandboxCommand -ProjectId $missing 'true' }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'Get-Sandbox' }
        @{ Run = { $Gone | Invoke-SandboxCommand 'true' }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'no longer exists' }
        # Paused (by the engine, as Suspend-Sandbox does): the error says to resume it.
        @{ Run = { $Paused | Invoke-SandboxCommand 'true' }; ErrorId = 'SandboxSuspended'; Category = 'InvalidOperation'; Phrase = 'until it is resumed' }
        # wrong types from the pipeline: any object binds to -InputObject (standard input), which needs a sandbox named on the command line
        @{ Run = { 'a string' | Invoke-SandboxCommand 'true' }; ErrorId = 'InputObjectMissingMandatory'; Category = 'InvalidArgument'; Phrase = 'mandatory parameters:  Sandbox' }
        @{ Run = { @{ Id = 'x' } | Invoke-SandboxCommand 'true' }; ErrorId = 'InputObjectMissingMandatory'; Category = 'InvalidArgument'; Phrase = 'mandatory parameters:  Sandbox' }
        @{ Run = { 42 | Invoke-SandboxCommand 'true' }; ErrorId = 'InputObjectMissingMandatory'; Category = 'InvalidArgument'; Phrase = 'mandatory parameters:  Sandbox' }
        @{ Run = { Get-Item -LiteralPath $LocalFile | Invoke-SandboxCommand 'true' }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = "name 'file.txt'" }
        # -DockerHost
        @{ Run = { Invoke-SandboxCommand -Name $missing 'true' -DockerHost '   ' }; ErrorId = 'InvalidDockerHost'; Category = 'InvalidArgument'; Phrase = 'empty' }
        @{ Run = { Invoke-SandboxCommand -Name $missing 'true' -DockerHost 'unix:///nonexistent.sock' }; ErrorId = 'DockerEndpointUnavailable'; Category = 'ConnectionError'; Phrase = 'Cannot reach the Docker engine' }
        @{ Run = { Invoke-SandboxCommand -Name $missing 'true' -DockerHost '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
        @{ Run = { $Target | Invoke-SandboxCommand 'true' -SshKeyPath '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
    )

    $copyCases = @(
        @{ Run = { $Target | Copy-SandboxItem }; ErrorId = 'PathRequired'; Category = 'InvalidArgument'; Phrase = '-LiteralPath' }
        @{ Run = { $Target | Copy-SandboxItem -Path $LocalFile -LiteralPath $LocalFile }; ErrorId = 'PathRequired'; Category = 'InvalidArgument'; Phrase = 'not both' }
        @{ Run = { $Target | Copy-SandboxItem -Path $LocalFile -ToSandbox -FromSandbox }; ErrorId = 'ConflictingSwitches'; Category = 'InvalidArgument'; Phrase = 'not both' }
        @{ Run = { $Target | Copy-SandboxItem -Path '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null, empty' }
        @{ Run = { $Target | Copy-SandboxItem -LiteralPath '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null, empty' }
        @{ Run = { $Target | Copy-SandboxItem -Path $LocalFile -Destination '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
        # local sources
        @{ Run = { $Target | Copy-SandboxItem -Path (Join-Path $TestDrive 'no-such-file.txt') }; ErrorId = 'PathNotFound'; Category = 'ObjectNotFound'; Phrase = 'does not exist' }
        @{ Run = { $Target | Copy-SandboxItem -LiteralPath (Join-Path $TestDrive 'no-such-file.txt') }; ErrorId = 'PathNotFound'; Category = 'ObjectNotFound'; Phrase = 'does not exist' }
        @{ Run = { $Target | Copy-SandboxItem -Path (Join-Path $TestDrive 'no-such-folder/../../no-such-file.txt') }; ErrorId = 'PathNotFound'; Category = 'ObjectNotFound'; Phrase = 'does not exist' }
        @{ Run = { $Target | Copy-SandboxItem -Path $LocalFolder }; ErrorId = 'RecurseRequired'; Category = 'InvalidArgument'; Phrase = 'add -Recurse' }
        # destinations in the sandbox
        @{ Run = { $Target | Copy-SandboxItem -Path $LocalFile -Destination '/sbt/no/such/folder/x.txt' }; ErrorId = 'SandboxPathNotFound'; Category = 'ObjectNotFound'; Phrase = "Folder '/sbt/no/such/folder' does not exist in the sandbox, so 'x.txt' cannot be made in it" }
        @{ Run = { $Target | Copy-SandboxItem -Path $LocalFile -Destination '/sbt/no/such/folder/' }; ErrorId = 'SandboxPathNotFound'; Category = 'ObjectNotFound'; Phrase = "Folder '/sbt/no/such/folder/' does not exist in the sandbox, so the file cannot be copied into it" }
        @{ Run = { $Target | Copy-SandboxItem -Path $LocalFolder -Destination '/sbt/no/such/folder/' -Recurse }; ErrorId = 'SandboxPathNotFound'; Category = 'ObjectNotFound'; Phrase = "Folder '/sbt/no/such' does not exist in the sandbox, so 'folder' cannot be made in it" }
        @{ Run = { $Target | Copy-SandboxItem -Path $LocalFile, $LocalFolder -Destination '/sbt/no/such/folder' -Recurse }; ErrorId = 'SandboxPathNotFound'; Category = 'ObjectNotFound'; Phrase = '2 items can only be copied into an existing folder' }
        @{ Run = { $Target | Copy-SandboxItem -Path $LocalFolder -Destination '/etc/hostname' -Recurse }; ErrorId = 'DestinationNotADirectory'; Category = 'InvalidArgument'; Phrase = 'is a file' }
        # out of the sandbox: sources with '..', missing sources, destinations that do not exist
        @{ Run = { $Target | Copy-SandboxItem -Path '/sbt/no-such-file' -FromSandbox -Destination $TestDrive }; ErrorId = 'SandboxPathNotFound'; Category = 'ObjectNotFound'; Phrase = 'does not exist in the sandbox' }
        @{ Run = { $Target | Copy-SandboxItem -Path '../../sbt/no/such/file' -FromSandbox -Destination $TestDrive }; ErrorId = 'SandboxPathNotFound'; Category = 'ObjectNotFound'; Phrase = 'does not exist in the sandbox' }
        @{ Run = { $Target | Copy-SandboxItem -Path '..' -FromSandbox -Destination $TestDrive }; ErrorId = 'RecurseRequired'; Category = 'InvalidArgument'; Phrase = 'add -Recurse' }
        @{ Run = { $Target | Copy-SandboxItem -Path '/etc/hostname' -FromSandbox -Destination (Join-Path $TestDrive 'no/such/folder/x.txt') }; ErrorId = 'PathNotFound'; Category = 'ObjectNotFound'; Phrase = "so 'x.txt' cannot be made in it" }
        @{ Run = { $Target | Copy-SandboxItem -Path '/etc/hostname' -FromSandbox -Destination (Join-Path $TestDrive 'sbt-no-such-folder/') }; ErrorId = 'PathNotFound'; Category = 'ObjectNotFound'; Phrase = 'so the file cannot be copied into it' }
        @{ Run = { $Target | Copy-SandboxItem -Path '/etc/hostname', '/etc/hosts' -FromSandbox -Destination (Join-Path $TestDrive 'sbt-no-such-folder') }; ErrorId = 'PathNotFound'; Category = 'ObjectNotFound'; Phrase = '2 items can only be copied into an existing folder' }
        @{ Run = { $Target | Copy-SandboxItem -Path '/etc/hostname' -FromSandbox -Destination (Join-Path $TestDrive '../sbt-no-such-folder/x.txt') }; ErrorId = 'PathNotFound'; Category = 'ObjectNotFound'; Phrase = 'sbt-no-such-folder' }
        # sandboxes that are not there
        @{ Run = { $Gone | Copy-SandboxItem -Path $LocalFile }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'no longer exists' }
        @{ Run = { $Gone | Copy-SandboxItem -Path '/etc/hostname' -FromSandbox -Destination $TestDrive }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'no longer exists' }
        @{ Run = { Copy-SandboxItem -Id '   ' -Path $LocalFile -WhatIf }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'Get-Sandbox' }
        @{ Run = { Copy-SandboxItem -Name $missing -Path $LocalFile }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'Get-Sandbox' }
        @{ Run = { 'a string' | Copy-SandboxItem -Path $LocalFile }; ErrorId = 'InputObjectNotBound'; Category = 'InvalidArgument'; Phrase = 'cannot be bound' }
        @{ Run = { Copy-SandboxItem -Name $missing -Path $LocalFile -DockerHost 'ftp://x' }; ErrorId = 'InvalidDockerHost'; Category = 'InvalidArgument'; Phrase = 'Use unix://, tcp://, ssh://' }
        @{ Run = { $Target | Copy-SandboxItem -Path $LocalFile -SshKeyPath '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
    )

    $getCases = @(
        @{ Run = { Get-Sandbox -Name '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null, empty' }
        @{ Run = { Get-Sandbox -Id '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null, empty' }
        @{ Run = { Get-Sandbox -ProjectId '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null, empty' }
        @{ Run = { Get-Sandbox -Name $missing }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'Get-Sandbox' }
        @{ Run = { Get-Sandbox -Id '   ' }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'Get-Sandbox' }
        @{ Run = { Get-Sandbox -Name '[abc' }; ErrorId = 'InvalidWildcardPattern'; Category = 'InvalidArgument'; Phrase = '[abc' }
        @{ Run = { Get-Sandbox -DockerHost @() }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null, empty' }
        @{ Run = { Get-Sandbox -DockerHost '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null, empty' }
        @{ Run = { Get-Sandbox -DockerHost '   ' }; ErrorId = 'InvalidDockerHost'; Category = 'InvalidArgument'; Phrase = 'empty' }
        @{ Run = { Get-Sandbox -DockerHost 'foo' }; ErrorId = 'InvalidDockerHost'; Category = 'InvalidArgument'; Phrase = 'tcp://host:port' }
        @{ Run = { Get-Sandbox -DockerHost 'ftp://x' }; ErrorId = 'InvalidDockerHost'; Category = 'InvalidArgument'; Phrase = 'Use unix://, tcp://, ssh://' }
        @{ Run = { Get-Sandbox -DockerHost 'tcp://' }; ErrorId = 'InvalidDockerHost'; Category = 'InvalidArgument'; Phrase = 'names no host' }
        @{ Run = { Get-Sandbox -DockerHost 'ssh://' }; ErrorId = 'InvalidDockerHost'; Category = 'InvalidArgument'; Phrase = 'ssh://user@host' }
        @{ Run = { Get-Sandbox -DockerHost 'unix://' }; ErrorId = 'InvalidDockerHost'; Category = 'InvalidArgument'; Phrase = 'names no socket file' }
        @{ Run = { Get-Sandbox -DockerHost 'npipe:////./pipe/docker_engine' }; ErrorId = 'InvalidDockerHost'; Category = 'InvalidArgument'; Phrase = 'Windows'; Requires = 'NotWindows' }
        @{ Run = { Get-Sandbox -DockerHost 'tcp://10.1.2.3:2375' }; ErrorId = 'InsecureDockerHost'; Category = 'SecurityError'; Phrase = 'without TLS' }
        @{ Run = { Get-Sandbox -DockerHost 'unix:///nonexistent.sock' }; ErrorId = 'DockerEndpointUnavailable'; Category = 'ConnectionError'; Phrase = 'Cannot reach the Docker engine' }
        @{ Run = { Get-Sandbox -SshKeyPath '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
        @{ Run = { Invoke-WithoutHost 'Get-Sandbox -Credential $null' }; ErrorId = 'ParameterArgumentTransformationError'; Category = 'InvalidData'; Phrase = "parameter 'Credential'" }
        @{ Run = { Use-TestSshHome { Get-Sandbox -DockerHost (Get-TestRemoteSetting).SshHost -SshKeyPath (Join-Path $TestDrive 'no-such-key') } }; ErrorId = 'SshKeyNotFound'; Category = 'ObjectNotFound'; Phrase = 'does not exist'; Requires = 'Ssh' }
        @{ Run = { Use-TestSshHome { Get-Sandbox -DockerHost (Get-TestRemoteSetting).SshHost -SshKeyPath $LocalFile } }; ErrorId = 'SshKeyInvalid'; Category = 'InvalidData'; Phrase = 'cannot be used'; Requires = 'Ssh' }
    )

    $stopCases = @(
        @{ Run = { Stop-Sandbox -Sandbox $null }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'The argument is null' }
        @{ Run = { Stop-Sandbox -Id '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null, empty' }
        @{ Run = { Stop-Sandbox -Id '   ' -WhatIf }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'Get-Sandbox' }
        @{ Run = { Stop-Sandbox -Id 'sbt-no-such-id' }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'Get-Sandbox' }
        @{ Run = { Stop-Sandbox -Name $missing }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'Get-Sandbox' }
        @{ Run = { Stop-Sandbox -Name '[abc' -WhatIf }; ErrorId = 'InvalidWildcardPattern'; Category = 'InvalidArgument'; Phrase = '[abc' }
        @{ Run = { Stop-Sandbox -ProjectId $missing }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'Get-Sandbox' }
        # -Expired with a name: the sets exclude each other (-WhatIf in case binding ever accepted it).
        @{ Run = { Stop-Sandbox -Expired -Name $missing -WhatIf }; ErrorId = 'AmbiguousParameterSet'; Category = 'InvalidArgument'; Phrase = 'Parameter set cannot be resolved' }
        @{ Run = { 'a string' | Stop-Sandbox -WhatIf }; ErrorId = 'InputObjectNotBound'; Category = 'InvalidArgument'; Phrase = 'cannot be bound' }
        @{ Run = { 42 | Stop-Sandbox -WhatIf }; ErrorId = 'InputObjectNotBound'; Category = 'InvalidArgument'; Phrase = 'cannot be bound' }
        @{ Run = { @{ Name = 'x' } | Stop-Sandbox -WhatIf }; ErrorId = 'InputObjectNotBound'; Category = 'InvalidArgument'; Phrase = 'cannot be bound' }
        @{ Run = { Get-Item -LiteralPath $LocalFile | Stop-Sandbox -WhatIf }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = "name 'file.txt'" }
        @{ Run = { Stop-Sandbox -Name $missing -DockerHost 'ftp://x' }; ErrorId = 'InvalidDockerHost'; Category = 'InvalidArgument'; Phrase = 'Use unix://, tcp://, ssh://' }
        @{ Run = { Stop-Sandbox -Name $missing -DockerHost 'unix:///nonexistent.sock' }; ErrorId = 'DockerEndpointUnavailable'; Category = 'ConnectionError'; Phrase = 'Cannot reach the Docker engine' }
        @{ Run = { Stop-Sandbox -Name $missing -DockerHost '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
        @{ Run = { Stop-Sandbox -Name $missing -SshKeyPath '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
    )

    $setCases = @(
        @{ Run = { $Target | Set-Sandbox -Timeout -1 }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'minimum allowed range of 0' }
        @{ Run = { $Target | Set-Sandbox -Timeout 99999999 }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'maximum allowed range' }
        @{ Run = { $Target | Set-Sandbox -Timeout 'soon' }; ErrorId = 'CannotConvertArgumentNoMessage'; Category = 'InvalidArgument'; Phrase = 'Cannot convert value "soon"' }
        @{ Run = { $Target | Set-Sandbox -Timeout }; ErrorId = 'MissingArgument'; Category = 'InvalidArgument'; Phrase = "Missing an argument for parameter 'Timeout'" }
        @{ Run = { Invoke-WithoutHost "Set-Sandbox -Name '$missing'" }; ErrorId = 'MissingMandatoryParameter'; Category = 'InvalidArgument'; Phrase = 'Timeout' }
        @{ Run = { $Gone | Set-Sandbox -Timeout 60 }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'no longer exists' }
        @{ Run = { Set-Sandbox -Id '   ' -Timeout 60 -WhatIf }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'Get-Sandbox' }
        @{ Run = { Set-Sandbox -Name $missing -Timeout 60 }; ErrorId = 'SandboxNotFound'; Category = 'ObjectNotFound'; Phrase = 'Get-Sandbox' }
        @{ Run = { 'a string' | Set-Sandbox -Timeout 60 }; ErrorId = 'InputObjectNotBound'; Category = 'InvalidArgument'; Phrase = 'cannot be bound' }
        @{ Run = { Set-Sandbox -Name $missing -Timeout 60 -DockerHost 'foo' }; ErrorId = 'InvalidDockerHost'; Category = 'InvalidArgument'; Phrase = 'tcp://host:port' }
        @{ Run = { Set-Sandbox -Name $missing -Timeout 60 -SshKeyPath '' }; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Phrase = 'null or empty' }
    )

    # Each case is named by its own code and the error it must give.
    foreach ($case in @($newSandboxCases; $useSandboxCases; $invokeCases; $copyCases; $getCases; $stopCases; $setCases)) {
        $case.Case = '{0} -> {1}' -f $case.Run.ToString().Trim(), $case.ErrorId
        if (-not $case.ContainsKey('Requires')) { $case.Requires = $null }
    }
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'badinput'
    $prefix = Get-TestPrefix
    $missing = 'sbt-badinput-no-such-sandbox'

    # Every sandbox this file makes, even one a case makes by mistake, carries the file's prefix, so that its
    # container and its deadline volume are recognisably this file's (other test files run at the same time).
    $global:PSDefaultParameterValues['New-Sandbox:Name'] = { New-TestName 'case' }
    $global:PSDefaultParameterValues['Use-Sandbox:Name'] = { New-TestName 'case' }

    # A -ProjectId without -Path makes ./projects/<id>: keep that in the test drive.
    Push-Location -LiteralPath $TestDrive

    $LocalFile = Join-Path $TestDrive 'file.txt'
    Set-Content -LiteralPath $LocalFile -Value 'a local file'
    $LocalFolder = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'folder')).FullName
    Set-Content -LiteralPath (Join-Path $LocalFolder 'inside.txt') -Value 'inside'

    # A running sandbox; one that was stopped (the object outlives its container); one whose processes are frozen.
    $Target = New-Sandbox -Name (New-TestName 'target')
    $Gone = New-Sandbox -Name (New-TestName 'gone')
    $Gone | Stop-Sandbox
    $Paused = New-Sandbox -Name (New-TestName 'paused')
    docker pause $Paused.Id | Out-Null

    # A host port that is taken.
    $busyListener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $busyListener.Start()
    $BusyPort = $busyListener.LocalEndpoint.Port

    $SshReady = (Test-Path -LiteralPath (Join-Path (Get-TestRemoteSetting).SshHome '.ssh/known_hosts')) -and (Test-TcpPort 127.0.0.1 2222)

    function Invoke-EngineApi {
        # GET on the local engine's API, straight over its socket: a few milliseconds, where the docker CLI takes 50.
        param([Parameter(Mandatory)] [string] $Path)
        $socketPath = if ($env:DOCKER_HOST -like 'unix://*') { $env:DOCKER_HOST.Substring(7) } else { '/var/run/docker.sock' }
        $socket = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::Unix, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Unspecified)
        try {
            $socket.Connect([System.Net.Sockets.UnixDomainSocketEndPoint]::new($socketPath))
            $stream = [System.Net.Sockets.NetworkStream]::new($socket, $true)
            $request = [System.Text.Encoding]::ASCII.GetBytes("GET $Path HTTP/1.0`r`nHost: docker`r`n`r`n")
            $stream.Write($request, 0, $request.Length)
            $response = [System.IO.StreamReader]::new($stream, [System.Text.Encoding]::UTF8).ReadToEnd()
        } finally { $socket.Dispose() }
        $split = $response.IndexOf("`r`n`r`n")
        if (-not $response.StartsWith('HTTP/1.') -or $split -lt 0 -or $response -notmatch '^HTTP/1\.\d 200') { throw "The engine answered GET $Path with: $($response.Split("`n")[0])" }
        $response.Substring($split + 4) | ConvertFrom-Json
    }

    function Get-OwnEngineObject {
        # This file's containers (by name, by owner pid, helpers of its sandboxes), volumes and networks, as 'kind:name'.
        foreach ($c in Invoke-EngineApi '/containers/json?all=1') {
            $name = $c.Names[0].TrimStart('/')
            $labels = $c.Labels
            $owner = $labels.PSObject.Properties['io.sandbox.owner']
            $helperFor = $labels.PSObject.Properties['io.sandbox.helper-for']
            if ($name -like "$prefix*" -or ($owner -and $owner.Value -like "*:$PID") -or ($helperFor -and $helperFor.Value -in $OwnIds)) {
                "container:$name"
            }
        }
        foreach ($v in (Invoke-EngineApi '/volumes').Volumes) { if ($v.Name -like "$prefix*") { "volume:$($v.Name)" } }
        foreach ($n in Invoke-EngineApi '/networks') { if ($n.Name -like "$prefix*") { "network:$($n.Name)" } }
    }
    $OwnIds = @($Target.Id, $Gone.Id, $Paused.Id)

    function Invoke-WithoutHost {
        # Runs a command in a new runspace without a host, where PowerShell cannot prompt for a missing mandatory
        # parameter; its errors come back as ErrorRecord objects.
        param([Parameter(Mandatory)] [string] $Command)
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$($env:SANDBOX_MODULE_PATH -replace "'", "''")'; $Command")
            try { $ps.Invoke() } catch { $_.Exception.InnerException.ErrorRecord }
            $ps.Streams.Error
        } finally { $ps.Dispose() }
    }

    function Invoke-Case {
        # Runs one case with everything it writes captured; reports its errors, output, time and leftovers.
        param([Parameter(Mandatory)] [scriptblock] $Run)
        $ErrorActionPreference = 'Continue'
        $before = @(Get-OwnEngineObject)
        $records = [System.Collections.Generic.List[object]]::new()
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        try { & $Run *>&1 | ForEach-Object { $records.Add($_) } }
        catch { $records.Add($_) }
        $clock.Stop()
        $after = @(Get-OwnEngineObject)
        $leftovers = @($after | Where-Object { $_ -notin $before })
        # Reported below; removed now, so that one case's leftovers never show up in the next one's output.
        foreach ($item in $leftovers) {
            $kind, $name = $item -split ':', 2
            switch ($kind) {
                'container' { docker rm -f $name *> $null }
                'volume' { docker volume rm -f $name *> $null }
                'network' { docker network rm $name *> $null }
            }
        }
        [pscustomobject]@{
            Errors    = @($records | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            Output    = @($records | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] -and $_ -isnot [System.Management.Automation.InformationRecord] -and
                                                    $_ -isnot [System.Management.Automation.WarningRecord] -and $_ -isnot [System.Management.Automation.VerboseRecord] -and
                                                    $_ -isnot [System.Management.Automation.DebugRecord] })
            Streams   = @($records | ForEach-Object { "$_" })
            Elapsed   = $clock.Elapsed
            Leftovers = $leftovers
        }
    }

    function Assert-NoInternals {
        # What the user reads names no .NET exception type and carries no stack trace.
        param([Parameter(Mandatory)] [System.Management.Automation.ErrorRecord] $ErrorRecord)
        $text = @($ErrorRecord.Exception.Message, $ErrorRecord.ErrorDetails.Message, $ErrorRecord.ErrorDetails.RecommendedAction) -join "`n"
        $text | Should -Not -Match '\bat (Sandbox|System|Docker|Renci|Microsoft)\.[\w.`<>]+' -Because 'no stack frames in what the user reads' -ErrorAction Continue
        $text | Should -Not -Match '\bSystem\.[\w.]*Exception\b' -Because 'no raw .NET exception types' -ErrorAction Continue
        $text | Should -Not -Match '--->' -Because 'no inner-exception dumps' -ErrorAction Continue
        $text | Should -Not -Match "\(Parameter '\w+'\)" -Because 'no raw ArgumentException text' -ErrorAction Continue
        $ErrorRecord.FullyQualifiedErrorId | Should -Not -Match '^(UnexpectedError|RuntimeException|System\.)' -Because 'every failure has its own ErrorId' -ErrorAction Continue
    }

    function Assert-BadInput {
        # Every check runs (-ErrorAction Continue), so that a failing case reports all that is wrong with it at once.
        param($Result, [string] $ErrorId, [string] $Category, [string] $Phrase)
        $shown = ($Result.Streams | Select-Object -First 5) -join ' | '
        $Result.Errors | Should -HaveCount 1 -Because "the case must write exactly one error (it wrote: $shown)" -ErrorAction Continue
        if ($Result.Errors.Count -ge 1) {
            $e = $Result.Errors[0]
            $message = if ($e.ErrorDetails -and $e.ErrorDetails.Message) { $e.ErrorDetails.Message } else { $e.Exception.Message }
            $e.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*" -Because "the message was: $message" -ErrorAction Continue
            $e.CategoryInfo.Category | Should -Be $Category -Because "the message was: $message" -ErrorAction Continue
            $message | Should -Match ([regex]::Escape($Phrase)) -Because 'the message must say what to fix' -ErrorAction Continue
            Assert-NoInternals $e
        }
        $Result.Output | Should -BeNullOrEmpty -Because 'a failed call writes no output' -ErrorAction Continue
        $Result.Elapsed.TotalSeconds | Should -BeLessThan 10 -Because 'bad input is answered at once, never with a hang' -ErrorAction Continue
        $Result.Leftovers | Should -BeNullOrEmpty -Because 'a failed call leaves nothing on the engine' -ErrorAction Continue
    }
}

AfterAll {
    if ($busyListener) { $busyListener.Stop() }
    if ($Paused) { docker unpause $Paused.Id *> $null }
    Pop-Location
    $global:PSDefaultParameterValues.Remove('New-Sandbox:Name')
    $global:PSDefaultParameterValues.Remove('Use-Sandbox:Name')
    Complete-SandboxTest
    # Deadline volumes of this file's sandboxes that a failed case may have left (only names with this file's prefix).
    $volumes = @(docker volume ls -q | Where-Object { $_ -like "$prefix*" })
    if ($volumes.Count) { docker volume rm -f @volumes *> $null }
}

Describe 'BadInput' {

    Context 'New-Sandbox' {
        It '<Case>' -ForEach $newSandboxCases {
            Assert-BadInput (Invoke-Case $Run) $ErrorId $Category $Phrase
        }
    }

    Context 'Use-Sandbox' {
        It '<Case>' -ForEach $useSandboxCases {
            $result = Invoke-Case $Run
            $result.Streams | Should -Not -Contain 'the block ran' -Because 'the script block never runs when the sandbox cannot be made'
            Assert-BadInput $result $ErrorId $Category $Phrase
        }
    }

    Context 'Invoke-SandboxCommand' {
        It '<Case>' -ForEach $invokeCases {
            Assert-BadInput (Invoke-Case $Run) $ErrorId $Category $Phrase
        }
    }

    Context 'Copy-SandboxItem' {
        It '<Case>' -ForEach $copyCases {
            Assert-BadInput (Invoke-Case $Run) $ErrorId $Category $Phrase
        }
    }

    Context 'Get-Sandbox' {
        It '<Case>' -ForEach $getCases {
            if ($Requires -eq 'Ssh' -and -not $SshReady) { Set-ItResult -Skipped -Because 'the test sshd on 127.0.0.1:2222 is not set up'; return }
            if ($Requires -eq 'NotWindows' -and $IsWindows) { Set-ItResult -Skipped -Because 'npipe:// is a valid engine address on Windows'; return }
            Assert-BadInput (Invoke-Case $Run) $ErrorId $Category $Phrase
        }
    }

    Context 'Stop-Sandbox' {
        It '<Case>' -ForEach $stopCases {
            Assert-BadInput (Invoke-Case $Run) $ErrorId $Category $Phrase
        }

        It 'stopping a sandbox that is already gone is quiet, quick and says so with -Verbose' {
            $result = Invoke-Case { $Gone | Stop-Sandbox -Verbose }
            $result.Errors | Should -BeNullOrEmpty
            $result.Streams | Should -Contain "Sandbox '$($Gone.Name)' was already gone."
            $result.Elapsed.TotalSeconds | Should -BeLessThan 10
            $result.Leftovers | Should -BeNullOrEmpty
        }
    }

    Context 'Set-Sandbox' {
        It '<Case>' -ForEach $setCases {
            Assert-BadInput (Invoke-Case $Run) $ErrorId $Category $Phrase
        }
    }

    Context 'an image that cannot be pulled says what chose it and what to do' {
        BeforeAll {
            # The real defaults live on Docker Hub: where the engine can reach it, the test would pull gigabytes, so it skips.
            $HubReachable = try { [System.Net.Dns]::GetHostAddresses('registry-1.docker.io').Count -gt 0 } catch { $false }
            $Unpullable = 'localhost:1/sbt/no-such-image:1'
            function Get-PullError([scriptblock] $Run) {
                $result = Invoke-Case $Run
                $result.Errors | Should -HaveCount 1
                $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'ImageNotFound,*'
                $result.Leftovers | Should -BeNullOrEmpty
                $result.Errors[0]
            }
        }
        AfterEach { $env:SANDBOX_IMAGE = Get-TestImage }

        It 'New-Sandbox with no -Image and no $env:SANDBOX_IMAGE names the module default and says to pass -Image or set $env:SANDBOX_IMAGE' {
            if ($HubReachable) { Set-ItResult -Skipped -Because 'Docker Hub is reachable from here: the test would pull the real default image'; return }
            Remove-Item Env:SANDBOX_IMAGE
            $e = Get-PullError { New-Sandbox }
            $e.Exception.Message | Should -BeLike "Image 'gitpod/workspace-full:latest', the module's default image (no -Image was given and `$env:SANDBOX_IMAGE is not set), is not on * and could not be pulled: *"
            $e.ErrorDetails.RecommendedAction | Should -BeLike 'The engine cannot reach the registry*Pass -Image*set $env:SANDBOX_IMAGE*'
            $e.ErrorDetails.RecommendedAction | Should -Not -Match 'log in'
        }

        It 'New-Sandbox with $env:SANDBOX_IMAGE set to an image that cannot be pulled names the variable' {
            $env:SANDBOX_IMAGE = $Unpullable
            $e = Get-PullError { New-Sandbox }
            $e.Exception.Message | Should -BeLike "Image '$Unpullable', the image `$env:SANDBOX_IMAGE names (no -Image was given), is not on * and could not be pulled: *connection refused*"
            $e.ErrorDetails.RecommendedAction | Should -BeLike '*Set $env:SANDBOX_IMAGE to an image the engine has*'
        }

        It 'Invoke-SandboxCode -Language python without -Image names the language and Register-SandboxLanguage' {
            if ($HubReachable) { Set-ItResult -Skipped -Because "Docker Hub is reachable from here: the test would pull python's real image"; return }
            $e = Get-PullError { Invoke-SandboxCode -Language python 'print(1)' }
            $e.Exception.Message | Should -BeLike "Image 'python:3.12-slim', the default image of language 'python' (no -Image was given), is not on * and could not be pulled: *"
            $e.ErrorDetails.RecommendedAction | Should -BeLike '*Pass -Image*Register-SandboxLanguage -Name python -Image <image>*'
            $e.ErrorDetails.RecommendedAction | Should -Not -Match 'log in'
        }

        It 'New-Sandbox -Build of a python project without -BaseImage names the language''s build image and -BaseImage' {
            if ($HubReachable) { Set-ItResult -Skipped -Because "Docker Hub is reachable from here: the test would pull python's real image"; return }
            docker image inspect python:3.12-slim *> $null
            if ($LASTEXITCODE -eq 0) { Set-ItResult -Skipped -Because 'the engine has python:3.12-slim, so the build would not fail at its FROM step'; return }
            $project = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'py-default-base')
            Set-Content -LiteralPath (Join-Path $project 'requirements.txt') -Value ''
            $result = Invoke-Case { New-Sandbox -Build -Path $project.FullName }
            $result.Errors | Should -HaveCount 1
            $e = $result.Errors[0]
            $e.FullyQualifiedErrorId | Should -BeLike 'ImageBuildFailed,*'
            $e.Exception.Message | Should -BeLike "*(FROM python:3.12-slim)*The base image is the build image of language 'python' (no -BaseImage was given).*"
            $e.ErrorDetails.RecommendedAction | Should -BeLike '*-BaseImage*Register-SandboxLanguage -Name python -BuildImage <image>*'
            $e.ErrorDetails.RecommendedAction | Should -Not -Match 'Fix the project'
        }

        It 'an image given with -Image that the engine cannot reach says so first, not "log in"' {
            $e = Get-PullError { New-Sandbox -Image $Unpullable }
            $e.Exception.Message | Should -BeLike "Image '$Unpullable' is not on * and could not be pulled: *connection refused*"
            $e.ErrorDetails.RecommendedAction | Should -BeLike 'The engine cannot reach the registry*'
            $e.ErrorDetails.RecommendedAction | Should -Not -Match 'log in'
        }
    }

    Context 'a sandbox that is gone or paused is named by its name, not its 64-hex id' {
        It '<Case>' -ForEach @(
            @{ Case = 'Invoke-SandboxCommand on a removed sandbox'; Run = { $Gone | Invoke-SandboxCommand 'true' }; Subject = 'Gone'; ErrorId = 'SandboxNotFound' }
            @{ Case = 'Invoke-SandboxCode on a removed sandbox'; Run = { Invoke-SandboxCode -Sandbox $Gone -Language sh 'true' }; Subject = 'Gone'; ErrorId = 'SandboxNotFound' }
            @{ Case = 'Copy-SandboxItem into a removed sandbox'; Run = { $Gone | Copy-SandboxItem -Path $LocalFile }; Subject = 'Gone'; ErrorId = 'SandboxNotFound' }
            @{ Case = 'Copy-SandboxItem out of a removed sandbox'; Run = { $Gone | Copy-SandboxItem -Path '/etc/hostname' -FromSandbox -Destination $TestDrive }; Subject = 'Gone'; ErrorId = 'SandboxNotFound' }
            @{ Case = 'Set-Sandbox on a removed sandbox'; Run = { $Gone | Set-Sandbox -Timeout 60 }; Subject = 'Gone'; ErrorId = 'SandboxNotFound' }
            @{ Case = 'Invoke-SandboxCommand on a paused sandbox'; Run = { $Paused | Invoke-SandboxCommand 'true' }; Subject = 'Paused'; ErrorId = 'SandboxSuspended' }
        ) {
            $sandbox = Get-Variable -Name $Subject -ValueOnly
            $result = Invoke-Case $Run
            $result.Errors | Should -HaveCount 1
            $message = $result.Errors[0].Exception.Message
            $result.Errors[0].FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
            $message | Should -BeLike "Sandbox '$($sandbox.Name)' ($($sandbox.ShortId)) *"
            $message | Should -Not -Match '[0-9a-f]{64}' -Because 'the full id says nothing the name and short id do not'
            $result.Errors[0].TargetObject | Should -Be $sandbox.Name
        }
    }

    Context 'valid unicode works (positive controls)' {
        It 'mounts a folder with a unicode name and reads a unicode file in it' {
            $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'prøjekt-日本')
            Set-Content -LiteralPath (Join-Path $folder 'grüße-日本.txt') -Value 'héllo wörld 日本' -Encoding utf8NoBOM
            $result = Invoke-Case {
                $sandbox = New-Sandbox -Path $folder.FullName -ProjectId 'prøjekt-日本'
                try {
                    Get-Sandbox -ProjectId 'prøjekt-日本' | ForEach-Object Name
                    $sandbox | Invoke-SandboxCommand 'cat /workspace/grüße-日本.txt'
                } finally { $sandbox | Stop-Sandbox }
            }
            $result.Errors | Should -BeNullOrEmpty
            $result.Output | Should -HaveCount 2
            $result.Output[0] | Should -BeLike "$prefix-case-*"
            $result.Output[1] | Should -Be 'héllo wörld 日本'
            $result.Leftovers | Should -BeNullOrEmpty
        }

        It 'copies a file with a unicode name in and out, and passes unicode through commands and variables' {
            $file = Join-Path $TestDrive 'ünï-ß-日本.txt'
            Set-Content -LiteralPath $file -Value 'grüß dich 日本' -Encoding utf8NoBOM
            $back = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'zurück')
            $result = Invoke-Case {
                $Target | Copy-SandboxItem -LiteralPath $file -Destination '/tmp/'
                $Target | Copy-SandboxItem -Path '/tmp/ünï-ß-日本.txt' -FromSandbox -Destination $back.FullName
                $Target | Invoke-SandboxCommand 'echo "$GRUSS"' -Environment @{ GRUSS = 'grüß-日本' }
                $Target | Invoke-SandboxCommand -ArgumentList 'echo', 'ärger-日本'
            }
            $result.Errors | Should -BeNullOrEmpty
            $result.Output | Should -Be 'grüß-日本', 'ärger-日本'
            Get-Content -LiteralPath (Join-Path $back 'ünï-ß-日本.txt') -Encoding utf8 | Should -Be 'grüß dich 日本'
            $result.Leftovers | Should -BeNullOrEmpty
        }

        It "copies out of the sandbox through a source path with '..' into the chosen folder, not above it" {
            $into = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'dotdot')
            $result = Invoke-Case { $Target | Copy-SandboxItem -Path '/workspace/../etc/hostname' -FromSandbox -Destination $into.FullName -PassThru }
            $result.Errors | Should -BeNullOrEmpty
            $result.Output.FullName | Should -Be (Join-Path $into 'hostname')
            Test-Path -LiteralPath (Join-Path $TestDrive 'hostname') | Should -BeFalse
        }
    }
}
