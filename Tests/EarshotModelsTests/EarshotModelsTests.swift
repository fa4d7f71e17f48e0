// EarshotModelsTests: tests arrive with their issue.
import Testing
