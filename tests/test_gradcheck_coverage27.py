"""scripts/gradcheck_coverage.py: the audit that lists Function classes no gradcheck ran."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_audit_names_what_a_gradcheck_ran_and_what_it_did_not(tmp_path):
    probe = tmp_path / "test_probe.py"
    probe.write_text("import tensorgan as tg\n"
                     "def test_exp():\n"
                     "    x = tg.randn(3, dtype='float64', seed=0, requires_grad=True)\n"
                     "    assert tg.gradcheck(lambda t: t.exp(), [x])\n"
                     "    (x.log1p() ** 2).sum().backward()   # a backward outside any gradcheck\n")
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "gradcheck_coverage.py"), str(probe),
                          "-q", "-p", "no:cacheprovider"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    summary = out.stdout[out.stdout.index("Function classes ran backward"):]
    never = {line.strip().rsplit(".", 1)[-1] for line in summary.splitlines()[1:] if line.strip()}
    assert "Exp" not in never
    assert {"Log1p", "Pow"} & never, "ops whose backward ran outside a gradcheck stay unchecked"
