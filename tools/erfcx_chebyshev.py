"""Chebyshev coefficients of the scaled complementary error function, for src/GradientDescent.Autodiff/Ops/ErrorFunction.cs.

erfcx(x) = e^(x^2) erfc(x) is expanded on x in [0.5, 1], [1, 2], [2, 4], and, for x >= 4, x*erfcx(x) as a function
of u = 1/x on [0, 1/4] (it tends to 1/sqrt(pi) as u -> 0). Each expansion is Chebyshev interpolation at 80 nodes
computed with mpmath at 50 significant digits, truncated where every later coefficient is below 1e-18 of the
leading one, and printed as C# doubles (round-trip digits). The first coefficient is printed already halved, so the
sum is plain sum(a_k T_k(t)). Run: python3 tools/erfcx_chebyshev.py (needs mpmath; nothing in the build runs it).
"""
import mpmath as mp

mp.mp.dps = 50
NODES = 80


def chebyshev(f, lo, hi):
    lo, hi = mp.mpf(lo), mp.mpf(hi)
    theta = [mp.pi * (j + mp.mpf(1) / 2) / NODES for j in range(NODES)]
    fx = [f((hi + lo) / 2 + (hi - lo) / 2 * mp.cos(t)) for t in theta]
    c = [2 * mp.fsum(fx[j] * mp.cos(k * theta[j]) for j in range(NODES)) / NODES for k in range(NODES)]
    c[0] /= 2
    last = max(k for k in range(NODES) if abs(c[k]) >= mp.mpf('1e-18') * abs(c[0]))
    return c[: last + 1]


def erfcx(x):
    return mp.exp(x * x) * mp.erfc(x)


def scaled_tail(u):
    return 1 / mp.sqrt(mp.pi) if u == 0 else erfcx(1 / u) / u


def show(name, comment, c):
    print(f"    /// <summary>{comment}</summary>")
    print(f"    private static ReadOnlySpan<double> {name} =>")
    print("    [")
    for k in range(0, len(c), 4):
        print("        " + " ".join(repr(float(v)) + "," for v in c[k : k + 4]))
    print("    ];")
    print()


show("ErfcxHalfToOne", "erfcx(x) on [0.5, 1], t = 4x − 3.", chebyshev(erfcx, 0.5, 1))
show("ErfcxOneToTwo", "erfcx(x) on [1, 2], t = 2x − 3.", chebyshev(erfcx, 1, 2))
show("ErfcxTwoToFour", "erfcx(x) on [2, 4], t = x − 3.", chebyshev(erfcx, 2, 4))
show("ErfcxTail", "x·erfcx(x) for x ≥ 4, in u = 1/x ∈ [0, 1/4], t = 8u − 1.", chebyshev(scaled_tail, 0, mp.mpf(1) / 4))
