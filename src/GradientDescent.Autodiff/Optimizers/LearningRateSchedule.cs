namespace GradientDescent.Autodiff;

/// <summary>
/// A learning rate as a pure function of the step t = 0, 1, 2, …: set <c>optimizer.LearningRate = schedule.At(t)</c>
/// before step t. The formulas are <c>torch.optim.lr_scheduler</c>'s closed forms, where t is its <c>last_epoch</c>
/// (the number of <c>scheduler.step()</c> calls so far), so <c>At(t)</c> is the rate PyTorch's optimizer uses in its
/// (t + 1)-th step.
/// </summary>
/// <remarks>
/// Schedules compose: <see cref="Then"/> switches to another schedule at a milestone (as <c>SequentialLR</c>), and
/// <see cref="WithLinearWarmUp"/> puts a linear warm-up in front. Optimizers accept only positive rates: a schedule
/// that reaches 0 (cosine annealing to η_min = 0 at t = T, a linear ramp to 0) is an error at the step it does.
/// </remarks>
public sealed class LearningRateSchedule
{
    private readonly Func<int, double> _rate;
    private readonly string _description;

    private LearningRateSchedule(string description, Func<int, double> rate)
    {
        _description = description;
        _rate = rate;
    }

    /// <summary>η at step <paramref name="step"/> ≥ 0.</summary>
    public double At(int step) =>
        step >= 0
            ? _rate(step)
            : throw new ArgumentOutOfRangeException(nameof(step), step, $"LearningRateSchedule {this}: step {step} is negative; steps count from 0.");

    /// <summary>The schedule's formula and settings, for logs and errors.</summary>
    public override string ToString() => _description;

    /// <summary>η(t) = η₀.</summary>
    public static LearningRateSchedule Constant(double rate)
    {
        Check(nameof(Constant), "rate", nameof(rate), rate, Setting.Range.Positive);
        return new($"Constant(η = {rate})", _ => rate);
    }

    /// <summary>η(t) = η₀·γ^⌊t/s⌋: multiply by γ every s steps (<c>StepLR</c>).</summary>
    /// <param name="initialRate">η₀ &gt; 0.</param>
    /// <param name="stepSize">s ≥ 1.</param>
    /// <param name="gamma">γ &gt; 0 (PyTorch's default is 0.1).</param>
    public static LearningRateSchedule Step(double initialRate, int stepSize, double gamma = 0.1)
    {
        CheckInitialRate(nameof(Step), initialRate);
        Check(nameof(Step), "step size", nameof(stepSize), stepSize, Setting.Range.Count);
        Check(nameof(Step), "decay factor γ", nameof(gamma), gamma, Setting.Range.Positive);
        return new($"Step(η₀ = {initialRate}, s = {stepSize}, γ = {gamma})", t => initialRate * Math.Pow(gamma, t / stepSize));
    }

    /// <summary>η(t) = η₀·γᵗ (<c>ExponentialLR</c>).</summary>
    /// <param name="initialRate">η₀ &gt; 0.</param>
    /// <param name="gamma">γ &gt; 0.</param>
    public static LearningRateSchedule Exponential(double initialRate, double gamma)
    {
        CheckInitialRate(nameof(Exponential), initialRate);
        Check(nameof(Exponential), "decay factor γ", nameof(gamma), gamma, Setting.Range.Positive);
        return new($"Exponential(η₀ = {initialRate}, γ = {gamma})", t => initialRate * Math.Pow(gamma, t));
    }

    /// <summary>
    /// η(t) = η_min + (η₀ − η_min)·(1 + cos(πt/T))/2 (<c>CosineAnnealingLR</c>; Loshchilov and Hutter, "SGDR:
    /// Stochastic Gradient Descent with Warm Restarts", ICLR 2017, without the restarts): from η₀ at t = 0 down to
    /// η_min at t = T, and back up after, as PyTorch's.
    /// </summary>
    /// <param name="initialRate">η₀ &gt; 0.</param>
    /// <param name="period">T ≥ 1, the steps from η₀ to η_min.</param>
    /// <param name="minRate">η_min ≥ 0. With 0, the rate at t = T is 0, which optimizers reject: schedule t &lt; T.</param>
    public static LearningRateSchedule CosineAnnealing(double initialRate, int period, double minRate = 0)
    {
        CheckInitialRate(nameof(CosineAnnealing), initialRate);
        Check(nameof(CosineAnnealing), "period T", nameof(period), period, Setting.Range.Count);
        Check(nameof(CosineAnnealing), "minimum rate η_min", nameof(minRate), minRate, Setting.Range.NonNegative);
        return new($"CosineAnnealing(η₀ = {initialRate}, T = {period}, η_min = {minRate})",
            t => minRate + (initialRate - minRate) * (1 + Math.Cos(Math.PI * t / period)) / 2);
    }

    /// <summary>
    /// η(t) = η₀·(f₀ + (f₁ − f₀)·min(t, n)/n): a linear ramp of the factor from f₀ to f₁ over n steps, then f₁
    /// (<c>LinearLR</c>); with f₁ = 1 it is a linear warm-up to η₀.
    /// </summary>
    /// <param name="initialRate">η₀ &gt; 0.</param>
    /// <param name="startFactor">f₀ in (0, 1] (PyTorch's default is 1/3).</param>
    /// <param name="endFactor">f₁ in [0, 1].</param>
    /// <param name="steps">n ≥ 1 (PyTorch's default is 5).</param>
    public static LearningRateSchedule Linear(double initialRate, double startFactor = 1.0 / 3, double endFactor = 1, int steps = 5)
    {
        CheckInitialRate(nameof(Linear), initialRate);
        Check(nameof(Linear), "start factor", nameof(startFactor), startFactor, Setting.Range.UnitLeftOpen);
        Check(nameof(Linear), "end factor", nameof(endFactor), endFactor, Setting.Range.Unit);
        Check(nameof(Linear), "number of steps", nameof(steps), steps, Setting.Range.Count);
        return new($"Linear(η₀ = {initialRate}, f₀ = {startFactor}, f₁ = {endFactor}, n = {steps})",
            t => initialRate * (startFactor + (endFactor - startFactor) * Math.Min(steps, t) / steps));
    }

    /// <summary>η(t) = η₀·f(t) for a function of your own (<c>LambdaLR</c>); f(t) must be finite.</summary>
    /// <param name="initialRate">η₀ &gt; 0.</param>
    /// <param name="factor">f, called with t = 0, 1, 2, … (it should not allocate if the loop must not).</param>
    public static LearningRateSchedule Lambda(double initialRate, Func<int, double> factor)
    {
        CheckInitialRate(nameof(Lambda), initialRate);
        ArgumentNullException.ThrowIfNull(factor);
        return new($"Lambda(η₀ = {initialRate}, f)", t =>
        {
            double f = factor(t);
            return double.IsFinite(f)
                ? initialRate * f
                : throw new InvalidOperationException($"LearningRateSchedule.Lambda: the factor f({t}) is {f}; f must return a finite number.");
        });
    }

    /// <summary>
    /// This schedule for t &lt; <paramref name="milestone"/>, then <paramref name="next"/> from its own step 0:
    /// η(t) = next(t − milestone) for t ≥ milestone (<c>SequentialLR</c> with two schedulers).
    /// </summary>
    public LearningRateSchedule Then(int milestone, LearningRateSchedule next)
    {
        Check(nameof(Then), "milestone", nameof(milestone), milestone, Setting.Range.Count);
        ArgumentNullException.ThrowIfNull(next);
        return new($"{this} then, from step {milestone}, {next}", t => t < milestone ? _rate(t) : next._rate(t - milestone));
    }

    /// <summary>
    /// A linear warm-up in front of this schedule: η₀·(f₀ + (1 − f₀)·t/n) for t &lt; n, where η₀ = At(0), then this
    /// schedule from its step 0 (<c>SequentialLR([LinearLR(f₀, 1, n), …], milestones=[n])</c>).
    /// </summary>
    /// <param name="steps">n ≥ 1, the length of the warm-up.</param>
    /// <param name="startFactor">f₀ in (0, 1], the first step's fraction of η₀.</param>
    public LearningRateSchedule WithLinearWarmUp(int steps, double startFactor) =>
        Linear(_rate(0), startFactor, 1, steps).Then(steps, this);

    private static void CheckInitialRate(string schedule, double value) =>
        Check(schedule, "initial rate η₀", "initialRate", value, Setting.Range.Positive);

    private static void Check(string schedule, string setting, string parameterName, double value, Setting.Range range) =>
        Setting.Check($"LearningRateSchedule.{schedule}", setting, parameterName, value, range);
}
