using System.Globalization;

namespace GradientDescent.Autodiff;

/// <summary>
/// The one check every optimizer, schedule and clipping setting passes through, in constructors and setters alike,
/// so a value a constructor rejects can never be set later.
/// </summary>
internal static class Setting
{
    /// <summary>
    /// Returns <paramref name="value"/> when it lies in <paramref name="range"/> (which never holds NaN or ±∞);
    /// otherwise throws an <see cref="ArgumentOutOfRangeException"/> naming the owner, the setting, the value and the
    /// valid range: "Sgd: the learning rate must be a positive finite number, in (0, ∞); got NaN."
    /// </summary>
    internal static double Check(string owner, string setting, string parameterName, double value, Range range) =>
        range.Contains(value)
            ? value
            : throw new ArgumentOutOfRangeException(parameterName, value,
                $"{owner}: the {setting} must be {range.Phrase}, in {range}; got {value.ToString("R", CultureInfo.InvariantCulture)}.");

    /// <summary>A finite interval of valid values, open or closed at each end (an infinite end is always open).</summary>
    internal readonly record struct Range(double Min, bool MinOpen, double Max, bool MaxOpen, string Phrase)
    {
        /// <summary>(0, ∞): learning rates, step counts, periods.</summary>
        public static readonly Range Positive = new(0, true, double.PositiveInfinity, true, "a positive finite number");

        /// <summary>[0, ∞): weight decay, momentum, ε, accumulator values.</summary>
        public static readonly Range NonNegative = new(0, false, double.PositiveInfinity, true, "a finite number ≥ 0");

        /// <summary>[0, 1): Adam's β₁ and β₂.</summary>
        public static readonly Range UnitRightOpen = new(0, false, 1, true, "a number ≥ 0 and < 1");

        /// <summary>[0, 1]: dampening, RMSProp's α.</summary>
        public static readonly Range Unit = new(0, false, 1, false, "a number between 0 and 1");

        /// <summary>[1, ∞): step counts and periods.</summary>
        public static readonly Range Count = new(1, false, double.PositiveInfinity, true, "a whole number ≥ 1");

        /// <summary>(0, 1]: a multiplicative factor that may keep the rate but never zero it.</summary>
        public static readonly Range UnitLeftOpen = new(0, true, 1, false, "a number > 0 and ≤ 1");

        public bool Contains(double value) =>
            double.IsFinite(value)
            && (MinOpen ? value > Min : value >= Min)
            && (MaxOpen ? value < Max : value <= Max);

        /// <summary>"(0, ∞)", "[0, 1)".</summary>
        public override string ToString() =>
            $"{(MinOpen ? '(' : '[')}{Format(Min)}, {Format(Max)}{(MaxOpen ? ')' : ']')}";

        private static string Format(double x) =>
            double.IsPositiveInfinity(x) ? "∞" : x.ToString("R", CultureInfo.InvariantCulture);
    }
}
