"""Pure business rules of shebao: identity, months, policy, assessment, calendar, retirement."""
