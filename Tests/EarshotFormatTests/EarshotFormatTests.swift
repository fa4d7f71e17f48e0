// EarshotFormatTests: tests arrive with their issue.
import Testing
