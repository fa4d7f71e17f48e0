// EarshotCLITests: tests arrive with their issue.
import Testing
