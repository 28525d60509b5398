# The cases of Deadline.Tests.ps1 (read in discovery and in the run): each attack in busybox (ash) as root with the
# default capabilities, with -User and with -ReadOnly, and in the polyglot image (bash) as root.
foreach ($attack in 'freeze', 'kill', 'pids') {
    @{ Key = "bb-$attack-root"; Attack = $attack; Variant = 'root, default capabilities'; Image = 'busybox' }
    @{ Key = "bb-$attack-user"; Attack = $attack; Variant = '-User 1000'; Image = 'busybox' }
    @{ Key = "bb-$attack-ro"; Attack = $attack; Variant = '-ReadOnly'; Image = 'busybox' }
    @{ Key = "pg-$attack-root"; Attack = $attack; Variant = 'root, default capabilities'; Image = 'polyglot (bash)' }
}
