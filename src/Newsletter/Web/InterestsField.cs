namespace Newsletter.Web;

/// <summary>The interests input as typed, with its error when it does not parse.</summary>
public sealed record InterestsField(string? Value, InterestsError? Error);
