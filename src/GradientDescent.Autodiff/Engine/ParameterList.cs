using System.Collections;

namespace GradientDescent.Autodiff;

/// <summary>
/// The parameters used on one recording of a tape, indexed by their leaf's <see cref="NodeRecord.A"/>. Kept as
/// entries of a one-field struct: storing a reference into an array of an abstract class costs a type check per
/// store (the runtime's covariance check), and a step with a handful of ops would spend a tenth of its time there.
/// </summary>
internal sealed class ParameterList : IEnumerable<Parameter>
{
    private Entry[] _items = new Entry[8];

    /// <summary>How many parameters have been used.</summary>
    public int Count { get; private set; }

    /// <summary>The parameter of leaf slot <paramref name="index"/>.</summary>
    public Parameter this[int index] => _items[index].Parameter;

    /// <summary>Appends a parameter (a plain store).</summary>
    public void Add(Parameter parameter)
    {
        if (Count == _items.Length) Array.Resize(ref _items, Count * 2);
        _items[Count++] = new Entry(parameter);
    }

    /// <summary>Forgets every parameter (and lets the collector have them).</summary>
    public void Clear()
    {
        Array.Clear(_items, 0, Count);
        Count = 0;
    }

    /// <inheritdoc/>
    public IEnumerator<Parameter> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return _items[i].Parameter;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private readonly struct Entry(Parameter parameter)
    {
        public readonly Parameter Parameter = parameter;
    }
}
