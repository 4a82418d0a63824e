# Sourced by s12's before/after scripts (ROOT: the checkout): W is a temporary git worktree of OLD (default
# d004957, the ninth session's start), removed when the script exits.
OLD=${OLD:-d004957}
W=$(mktemp -d)/old
git worktree add -q --detach "$W" "$OLD"
trap 'git -C "$ROOT" worktree remove --force "$W"' EXIT
